package io.keel.app.bdevperf;

/** Names for the negative errno values the bdev layer returns. */
final class Errnos {
    private Errnos() {
    }

    static String describe(int rc) {
        String name = switch (-rc) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 5 -> "EIO";
            case 9 -> "EBADF (descriptor closed, or a write on a read-only one)";
            case 12 -> "ENOMEM";
            case 16 -> "EBUSY";
            case 19 -> "ENODEV";
            case 22 -> "EINVAL (out of range, misaligned or wrong length)";
            case 28 -> "ENOSPC";
            case 95 -> "ENOTSUP (the bdev does not support it)";
            case 110 -> "ETIMEDOUT";
            default -> "errno " + -rc;
        };
        return rc + " " + name;
    }
}
