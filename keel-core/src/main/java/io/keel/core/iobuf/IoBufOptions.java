package io.keel.core.iobuf;

/**
 * The pools' sizes, with SPDK's names and defaults ({@code iobuf_set_options}). Sizes are in bytes; buffer
 * sizes are rounded up to a multiple of 4096 when the pools are made, as SPDK does, and the rounded values
 * are what {@code framework_get_config} saves afterwards.
 *
 * @param smallPoolCount number of small buffers (default 8192; SPDK's minimum 64)
 * @param largePoolCount number of large buffers (default 1024; SPDK's minimum 8)
 * @param smallBufsize   size of a small buffer (default 8192; minimum 4096)
 * @param largeBufsize   size of a large buffer (default 135168, i.e. 132 KiB; minimum 8192)
 * @param enableNuma     per-NUMA-node pools in SPDK; accepted, saved, and ignored by Keel (one pool per size)
 */
public record IoBufOptions(long smallPoolCount, long largePoolCount, long smallBufsize, long largeBufsize,
        boolean enableNuma) {
    public static final long DEFAULT_SMALL_POOL_COUNT = 8192;
    public static final long DEFAULT_LARGE_POOL_COUNT = 1024;
    public static final long DEFAULT_SMALL_BUFSIZE = 8 * 1024;
    public static final long DEFAULT_LARGE_BUFSIZE = 132 * 1024;
    /** SPDK's lower bounds ({@code IOBUF_MIN_*}), enforced by {@link #validate()}. */
    public static final long MIN_SMALL_POOL_COUNT = 64;
    public static final long MIN_LARGE_POOL_COUNT = 8;
    public static final long MIN_SMALL_BUFSIZE = 4096;
    public static final long MIN_LARGE_BUFSIZE = 8192;
    /** Keel's upper bounds: buffers per pool (each is a pre-made segment object) and bytes per buffer. */
    public static final long MAX_POOL_COUNT = IndexStack.MAX_CAPACITY;
    public static final long MAX_BUFSIZE = Integer.MAX_VALUE - (IoBuf.ALIGNMENT - 1);

    public static IoBufOptions defaults() {
        return new IoBufOptions(DEFAULT_SMALL_POOL_COUNT, DEFAULT_LARGE_POOL_COUNT, DEFAULT_SMALL_BUFSIZE,
                DEFAULT_LARGE_BUFSIZE, false);
    }

    public IoBufOptions withSmallPoolCount(long n) {
        return new IoBufOptions(n, largePoolCount, smallBufsize, largeBufsize, enableNuma);
    }

    public IoBufOptions withLargePoolCount(long n) {
        return new IoBufOptions(smallPoolCount, n, smallBufsize, largeBufsize, enableNuma);
    }

    public IoBufOptions withSmallBufsize(long n) {
        return new IoBufOptions(smallPoolCount, largePoolCount, n, largeBufsize, enableNuma);
    }

    public IoBufOptions withLargeBufsize(long n) {
        return new IoBufOptions(smallPoolCount, largePoolCount, smallBufsize, n, enableNuma);
    }

    public IoBufOptions withEnableNuma(boolean b) {
        return new IoBufOptions(smallPoolCount, largePoolCount, smallBufsize, largeBufsize, b);
    }

    /**
     * Checks the options as SPDK's {@code spdk_iobuf_set_opts} does (its minimums) plus Keel's upper bounds;
     * throws {@link IllegalArgumentException} naming the first offending parameter.
     */
    public void validate() {
        checkRange("small_pool_count", smallPoolCount, MIN_SMALL_POOL_COUNT, MAX_POOL_COUNT);
        checkRange("large_pool_count", largePoolCount, MIN_LARGE_POOL_COUNT, MAX_POOL_COUNT);
        checkRange("small_bufsize", smallBufsize, MIN_SMALL_BUFSIZE, MAX_BUFSIZE);
        checkRange("large_bufsize", largeBufsize, MIN_LARGE_BUFSIZE, MAX_BUFSIZE);
    }

    /** The looser checks {@link IoBuf#create} applies (tests and embedders may use tiny pools). */
    void validateShape() {
        checkRange("small_pool_count", smallPoolCount, 1, MAX_POOL_COUNT);
        checkRange("large_pool_count", largePoolCount, 1, MAX_POOL_COUNT);
        checkRange("small_bufsize", smallBufsize, 1, MAX_BUFSIZE);
        checkRange("large_bufsize", largeBufsize, 1, MAX_BUFSIZE);
    }

    /** These options with both buffer sizes rounded up to the 4096-byte alignment. */
    IoBufOptions aligned() {
        return new IoBufOptions(smallPoolCount, largePoolCount, alignUp(smallBufsize), alignUp(largeBufsize), enableNuma);
    }

    private static long alignUp(long n) {
        return (n + IoBuf.ALIGNMENT - 1) / IoBuf.ALIGNMENT * IoBuf.ALIGNMENT;
    }

    private static void checkRange(String name, long v, long min, long max) {
        if (v < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + " (got " + v + ")");
        }
        if (v > max) {
            throw new IllegalArgumentException(name + " must be at most " + max + " (got " + v + ")");
        }
    }
}
