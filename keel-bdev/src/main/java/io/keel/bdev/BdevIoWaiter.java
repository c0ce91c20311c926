package io.keel.bdev;

/**
 * A caller's place in the queue for a bdev_io when the pool is empty (SPDK's {@code spdk_bdev_io_wait_entry}).
 * Owned and reused by the caller, so waiting allocates nothing. {@link #ioAvailable()} runs on the thread that
 * queued it, when an io has been freed there or the pool has refilled; the caller then submits again.
 */
public abstract class BdevIoWaiter {
    BdevIoWaiter next;
    boolean queued;

    /** An io may be available now: submit again (which may queue again). */
    public abstract void ioAvailable();
}
