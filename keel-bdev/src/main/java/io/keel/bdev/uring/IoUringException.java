package io.keel.bdev.uring;

/**
 * {@code io_uring_enter} failed in a way that is not a transient condition (EAGAIN, EBUSY and EINTR are handled
 * inside {@link IoUring}): the ring is broken or was misused (EBADF, EFAULT, EBADR, ...). Failures of single I/Os
 * are never thrown; they arrive as a negative {@code res} in their completion.
 */
public final class IoUringException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public IoUringException(String what, int errno) {
        super(what + ": " + Errno.describe(errno));
        this.errno = Math.abs(errno);
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }
}
