package io.keel.bdev;

/**
 * The layer's options ({@code bdev_set_options}), with SPDK's names and defaults.
 *
 * @param bdevIoPoolSize      bdev_io objects in the global pool
 * @param bdevIoCacheSize     bdev_io objects each thread keeps in front of the pool
 * @param bdevAutoExamine     whether modules examine new bdevs on their own
 * @param iobufSmallCacheSize small data buffers each thread keeps
 * @param iobufLargeCacheSize large data buffers each thread keeps
 */
public record BdevOptions(Integer bdevIoPoolSize, Integer bdevIoCacheSize, Boolean bdevAutoExamine,
        Integer iobufSmallCacheSize, Integer iobufLargeCacheSize) {
    public static final BdevOptions DEFAULTS = new BdevOptions(65535, 256, true, 128, 16);

    /** These options with every value given in {@code o} replacing the current one. */
    public BdevOptions with(BdevOptions o) {
        return new BdevOptions(
                o.bdevIoPoolSize != null ? o.bdevIoPoolSize : bdevIoPoolSize,
                o.bdevIoCacheSize != null ? o.bdevIoCacheSize : bdevIoCacheSize,
                o.bdevAutoExamine != null ? o.bdevAutoExamine : bdevAutoExamine,
                o.iobufSmallCacheSize != null ? o.iobufSmallCacheSize : iobufSmallCacheSize,
                o.iobufLargeCacheSize != null ? o.iobufLargeCacheSize : iobufLargeCacheSize);
    }

    /** Why these options cannot work, or null if they can. */
    public String problem() {
        if (bdevIoPoolSize < 1) {
            return "bdev_io_pool_size must be at least 1";
        }
        if (bdevIoCacheSize < 0 || iobufSmallCacheSize < 0 || iobufLargeCacheSize < 0) {
            return "cache sizes cannot be negative";
        }
        return null;
    }
}
