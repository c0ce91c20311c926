package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/**
 * The limits of an RDMA device that queues are sized by ({@code struct ibv_device_attr}, from
 * {@link VerbsContext#queryDevice}). Immutable: any thread may read it.
 *
 * @param maxQp           queue pairs
 * @param maxQpWr         work requests per queue pair's send or receive queue
 * @param maxSge          scatter/gather entries per work request
 * @param maxCq           completion queues
 * @param maxCqe          entries per completion queue
 * @param maxMr           memory regions
 * @param maxPd           protection domains
 * @param maxQpRdAtom     RDMA READs (and atomics) a queue pair answers for its peer at once (responder resources)
 * @param maxQpInitRdAtom RDMA READs (and atomics) a queue pair may have outstanding against its peer (initiator depth)
 * @param maxSrq          shared receive queues (0: the device has none)
 * @param maxSrqWr        work requests per shared receive queue
 * @param maxSrqSge       scatter/gather entries per shared receive queue work request
 */
public record DeviceAttributes(int maxQp, int maxQpWr, int maxSge, int maxCq, int maxCqe, int maxMr, int maxPd,
        int maxQpRdAtom, int maxQpInitRdAtom, int maxSrq, int maxSrqWr, int maxSrqSge) {

    /** Decodes a {@code struct ibv_device_attr} that {@code ibv_query_device} filled. */
    static DeviceAttributes read(MemorySegment attr) {
        return new DeviceAttributes(attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_WR),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SGE),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_CQ),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_CQE),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_MR),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_PD),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_RD_ATOM),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_INIT_RD_ATOM),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SRQ),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SRQ_WR),
                attr.get(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SRQ_SGE));
    }

    /** For a log line: the limits by SPDK's (and rdma-core's) names. */
    @Override
    public String toString() {
        return "max_qp " + maxQp + ", max_qp_wr " + maxQpWr + ", max_sge " + maxSge + ", max_cq " + maxCq
                + ", max_cqe " + maxCqe + ", max_mr " + maxMr + ", max_pd " + maxPd + ", max_qp_rd_atom " + maxQpRdAtom
                + ", max_qp_init_rd_atom " + maxQpInitRdAtom + ", max_srq " + maxSrq + ", max_srq_wr " + maxSrqWr
                + ", max_srq_sge " + maxSrqSge;
    }
}
