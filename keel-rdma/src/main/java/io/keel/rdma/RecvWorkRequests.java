package io.keel.rdma;

/** Reusable {@code struct ibv_recv_wr}s: a receive buffer each, for the peer's SENDs. */
public final class RecvWorkRequests extends WorkRequests {
    public RecvWorkRequests(int count, int maxSge) {
        super(count, maxSge, RdmaAbi.RECV_WR_BYTES, RdmaAbi.RECV_WR_ID, RdmaAbi.RECV_WR_NEXT, RdmaAbi.RECV_WR_SG_LIST,
                RdmaAbi.RECV_WR_NUM_SGE);
    }
}
