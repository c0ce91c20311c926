package io.keel.bdev.uring;

/**
 * io_uring cannot be used on this machine: {@code io_uring_setup} failed (ENOSYS on an old or stripped kernel,
 * EPERM when {@code kernel.io_uring_disabled} or a seccomp filter forbids it, ENOMEM under a low
 * {@code RLIMIT_MEMLOCK}, ...), or the platform is not Linux on x86_64/aarch64. Thrown only by
 * {@link IoUring#open}, so a caller can report "io_uring unavailable" when it creates a device.
 */
public final class IoUringUnavailableException extends ErrnoException {
    private static final long serialVersionUID = 1L;

    public IoUringUnavailableException(String what, int errno) {
        super("io_uring unavailable on this machine: " + what, errno);
    }
}
