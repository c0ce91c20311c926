package io.keel.bdev.uring;

/**
 * Names and texts for the errno values that completions carry: a completion's {@code res} is {@code -errno} on
 * failure, e.g. {@code -EINVAL} for a misaligned O_DIRECT request.
 */
public final class Errno {
    public static final int EPERM = Sys.EPERM;
    public static final int ENOENT = Sys.ENOENT;
    public static final int EINTR = Sys.EINTR;
    public static final int EIO = Sys.EIO;
    public static final int EBADF = Sys.EBADF;
    public static final int EAGAIN = Sys.EAGAIN;
    public static final int ENOMEM = Sys.ENOMEM;
    public static final int EACCES = Sys.EACCES;
    public static final int EFAULT = Sys.EFAULT;
    public static final int EBUSY = Sys.EBUSY;
    public static final int EEXIST = Sys.EEXIST;
    public static final int ENODEV = Sys.ENODEV;
    public static final int EISDIR = Sys.EISDIR;
    public static final int EINVAL = Sys.EINVAL;
    public static final int EMFILE = Sys.EMFILE;
    public static final int ENOTTY = Sys.ENOTTY;
    public static final int EFBIG = Sys.EFBIG;
    public static final int ENOSPC = Sys.ENOSPC;
    public static final int ENOSYS = Sys.ENOSYS;
    public static final int EOPNOTSUPP = Sys.EOPNOTSUPP;

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
        return name(e) + " (" + Sys.strerror(e) + ")";
    }
}
