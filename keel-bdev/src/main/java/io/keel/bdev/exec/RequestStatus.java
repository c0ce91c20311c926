package io.keel.bdev.exec;

/**
 * How a request ended, for the transport to turn into its own status. The {@code detail} that comes with it
 * ({@link RequestDone#requestDone}) says more where this names it.
 */
public enum RequestStatus {
    SUCCESS,
    /** The bdev failed the I/O (SPDK's FAILED): a device error with nothing more specific. */
    FAILED,
    /** The bdev aborted the I/O (a reset, a channel released under it). */
    ABORTED,
    /** A compare found different data. */
    MISCOMPARE,
    /** The bdev failed the I/O with an NVMe status: {@code detail} is {@code sct << 8 | sc}. */
    NVME_ERROR,
    /**
     * The bdev layer refused the submission: {@code detail} is its negative errno (-EINVAL, -EBADF for a closed
     * descriptor or a released channel, -ENOTSUP for a type the bdev lacks). Never -ENOMEM: that waits.
     */
    REFUSED,
    /** The executor is draining: the request never reached the bdev. */
    CANCELLED
}
