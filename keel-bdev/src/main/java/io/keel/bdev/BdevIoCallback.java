package io.keel.bdev;

/**
 * Called on the submitting thread when a bdev_io ends. The caller owns the io until it calls
 * {@link BdevIo#free()} (SPDK's {@code spdk_bdev_free_io}); a read's data stays valid until then.
 */
@FunctionalInterface
public interface BdevIoCallback {
    void done(BdevIo io, boolean success, Object arg);
}
