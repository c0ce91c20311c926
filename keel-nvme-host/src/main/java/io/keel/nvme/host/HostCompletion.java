package io.keel.nvme.host;

/**
 * Hears that a command ended, on the qpair's owner thread. {@code status} is the CQE status field without the
 * phase tag (0: success; {@link io.keel.nvme.spec.Status#codeOf} gives SCT and SC, bit 15 is DNR);
 * {@code result} is CQE dwords 0 and 1. Commands a qpair could not finish (it disconnected) end with
 * {@link HostStatus#ABORTED_SQ_DELETION}, which a caller may retry elsewhere.
 */
@FunctionalInterface
public interface HostCompletion {
    void complete(Object arg, int status, long result);
}
