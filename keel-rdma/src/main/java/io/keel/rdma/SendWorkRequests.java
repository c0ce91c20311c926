package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reusable {@code struct ibv_send_wr}s: SEND (with immediate data or an rkey to invalidate), RDMA WRITE and RDMA READ.
 * Opcodes and flags are {@code RdmaAbi.IBV_WR_*} and {@code RdmaAbi.IBV_SEND_*}.
 */
public final class SendWorkRequests extends WorkRequests {
    public SendWorkRequests(int count, int maxSge) {
        super(count, maxSge, RdmaAbi.SEND_WR_BYTES, RdmaAbi.SEND_WR_ID, RdmaAbi.SEND_WR_NEXT, RdmaAbi.SEND_WR_SG_LIST,
                RdmaAbi.SEND_WR_NUM_SGE);
    }

    /** The operation of slot {@code i} and its flags (e.g. {@code IBV_SEND_SIGNALED} for a completion). */
    public void operation(int i, int opcode, int flags) {
        long at = offset(i);
        requests.set(JAVA_INT, at + RdmaAbi.SEND_WR_OPCODE, opcode);
        requests.set(JAVA_INT, at + RdmaAbi.SEND_WR_SEND_FLAGS, flags);
    }

    /** For RDMA READ and WRITE: the peer's address and remote key. */
    public void remote(int i, long remoteAddress, int rkey) {
        long at = offset(i);
        requests.set(JAVA_LONG, at + RdmaAbi.SEND_WR_RDMA_REMOTE_ADDR, remoteAddress);
        requests.set(JAVA_INT, at + RdmaAbi.SEND_WR_RDMA_RKEY, rkey);
    }

    /** Immediate data (the 32 bits as they go on the wire) for *_WITH_IMM, or the rkey to invalidate for SEND_WITH_INV. */
    public void immediate(int i, int value) {
        requests.set(JAVA_INT, offset(i) + RdmaAbi.SEND_WR_IMM_DATA, value);
    }
}
