package io.keel.core.rpc;

/** The Linux errno values Keel reports in JSON-RPC errors and statuses, as SPDK does. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int ENOMEM = 12;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ENOTSUP = 95;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;
    public static final int ETIMEDOUT = 110;
    public static final int ECANCELED = 125;

    private Errno() {
    }
}
