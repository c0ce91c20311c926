package io.keel.rdma;

import io.keel.core.sys.Libc;

/**
 * A control-path call of rdma-core failed: which call, on what, and the error as {@code -errno}. Control-path methods
 * that create something throw it; the data path and the CM operations return {@code -errno} instead.
 */
public final class RdmaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int negativeErrno;

    public RdmaException(String call, int negativeErrno) {
        super(call + ": " + Libc.strerror(-negativeErrno) + " (" + negativeErrno + ")");
        this.negativeErrno = negativeErrno;
    }

    /** The error as {@code -errno}, e.g. {@code -ENOMEM}. */
    public int errno() {
        return negativeErrno;
    }
}
