package io.keel.nvme.host;

import io.keel.nvme.spec.Status;

/** The status fields the host itself produces, and their text for log lines and errors. */
public final class HostStatus {
    private HostStatus() {
    }

    /** Aborted because the queue went away (retryable: DNR clear), as SPDK ends a failed qpair's commands. */
    public static final int ABORTED_SQ_DELETION = Status.field(Status.ABORTED_SQ_DELETION, false);

    /** Whether the Do Not Retry bit is set. */
    public static boolean dnr(int status) {
        return (status & 1 << 15) != 0;
    }

    /** {@code SCT 0xN SC 0xNN}. */
    public static String describe(int status) {
        int code = Status.codeOf(status);
        return String.format("SCT 0x%x SC 0x%02x%s", Status.sct(code), Status.sc(code), dnr(status) ? " DNR" : "");
    }
}
