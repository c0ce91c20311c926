package io.keel.bdev.uring;

import io.keel.core.sys.Libc;
/**
 * Names and texts for the errno values that completions carry: a completion's {@code res} is {@code -errno} on
 * failure, e.g. {@code -EINVAL} for a misaligned O_DIRECT request.
 */
public final class Errno {
    public static final int EPERM = Libc.EPERM;
    public static final int ENOENT = Libc.ENOENT;
    public static final int EINTR = Libc.EINTR;
    public static final int EIO = Libc.EIO;
    public static final int EBADF = Libc.EBADF;
    public static final int EAGAIN = Libc.EAGAIN;
    public static final int ENOMEM = Libc.ENOMEM;
    public static final int EACCES = Libc.EACCES;
    public static final int EFAULT = Libc.EFAULT;
    public static final int EBUSY = Libc.EBUSY;
    public static final int EEXIST = Libc.EEXIST;
    public static final int ENODEV = Libc.ENODEV;
    public static final int EISDIR = Libc.EISDIR;
    public static final int EINVAL = Libc.EINVAL;
    public static final int EMFILE = Libc.EMFILE;
    public static final int ENOTTY = Libc.ENOTTY;
    public static final int EFBIG = Libc.EFBIG;
    public static final int ENOSPC = Libc.ENOSPC;
    public static final int ENOSYS = Libc.ENOSYS;
    public static final int EOPNOTSUPP = Libc.EOPNOTSUPP;

    private Errno() {
    }

    /** The symbolic name, e.g. "EINVAL", or "errno N" for one this class does not name. */
    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EISDIR -> "EISDIR";
            case EINVAL -> "EINVAL";
            case EMFILE -> "EMFILE";
            case ENOTTY -> "ENOTTY";
            case EFBIG -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case ENOSYS -> "ENOSYS";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            default -> "errno " + Math.abs(errno);
        };
    }

    /** Name and libc's text, e.g. "EINVAL (Invalid argument)"; accepts {@code errno} or {@code -errno}. */
    public static String describe(int errno) {
        int e = Math.abs(errno);
        return name(e) + " (" + Libc.strerror(e) + ")";
    }
}
