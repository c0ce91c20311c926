package io.keel.bdev;

/** A bdev operation refused with a negative errno and its reason (turned into the RPC error SPDK gives). */
public final class BdevException extends RuntimeException {
    private final int errno;

    public BdevException(int errno, String message) {
        super(message, null, false, false);
        this.errno = -Math.abs(errno);
    }

    /** The negative errno, e.g. -19 for ENODEV. */
    public int errno() {
        return errno;
    }
}
