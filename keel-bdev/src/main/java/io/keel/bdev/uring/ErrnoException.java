package io.keel.bdev.uring;

import java.io.IOException;

/** A system call failed at setup time (open, mmap, io_uring_setup, ...); carries the errno. */
public class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public ErrnoException(String what, int errno) {
        super(what + ": " + Errno.describe(errno));
        this.errno = Math.abs(errno);
    }

    /** The positive errno value, e.g. {@link Errno#EINVAL}. */
    public int errno() {
        return errno;
    }
}
