package io.keel.rdma;

/**
 * Every offset, size and enum value of rdma-core's structures that Keel reads or writes, in one place, derived from
 * {@code /usr/include/infiniband/verbs.h} and {@code /usr/include/rdma/rdma_cma.h} for LP64 Linux (x86_64, aarch64).
 * {@code RdmaAbiTest} compiles a C program against those headers and checks each constant here.
 */
public final class RdmaAbi {
    private RdmaAbi() {
    }

    // struct ibv_context: the provider's ops table is embedded at offset 8; the data-path verbs are inline functions
    // in verbs.h that call through it (ibv_post_send: qp->context->ops.post_send(qp, wr, bad_wr)).
    public static final long CONTEXT_DEVICE = 0;
    public static final long CONTEXT_OPS_POLL_CQ = 96;
    public static final long CONTEXT_OPS_REQ_NOTIFY_CQ = 104;
    public static final long CONTEXT_OPS_POST_SRQ_RECV = 168;
    public static final long CONTEXT_OPS_POST_SEND = 208;
    public static final long CONTEXT_OPS_POST_RECV = 216;
    /** How much of {@code struct ibv_context}'s ops table the offsets above reach into. */
    public static final long CONTEXT_OPS_END = 224;
    public static final long CONTEXT_ASYNC_FD = 268;
    /** How much of {@code struct ibv_context} is read: up to its async_fd. */
    public static final long CONTEXT_END = 272;

    // struct ibv_async_event
    public static final long ASYNC_EVENT_BYTES = 16;
    public static final long ASYNC_EVENT_ELEMENT = 0;
    public static final long ASYNC_EVENT_TYPE = 8;

    // struct ibv_sge
    public static final long SGE_BYTES = 16;
    public static final long SGE_ADDR = 0;
    public static final long SGE_LENGTH = 8;
    public static final long SGE_LKEY = 12;

    // struct ibv_send_wr
    public static final long SEND_WR_BYTES = 128;
    public static final long SEND_WR_ID = 0;
    public static final long SEND_WR_NEXT = 8;
    public static final long SEND_WR_SG_LIST = 16;
    public static final long SEND_WR_NUM_SGE = 24;
    public static final long SEND_WR_OPCODE = 28;
    public static final long SEND_WR_SEND_FLAGS = 32;
    /** The union of {@code imm_data} and {@code invalidate_rkey}. */
    public static final long SEND_WR_IMM_DATA = 36;
    public static final long SEND_WR_RDMA_REMOTE_ADDR = 40;
    public static final long SEND_WR_RDMA_RKEY = 48;

    // struct ibv_recv_wr
    public static final long RECV_WR_BYTES = 32;
    public static final long RECV_WR_ID = 0;
    public static final long RECV_WR_NEXT = 8;
    public static final long RECV_WR_SG_LIST = 16;
    public static final long RECV_WR_NUM_SGE = 24;

    // struct ibv_wc
    public static final long WC_BYTES = 48;
    public static final long WC_ID = 0;
    public static final long WC_STATUS = 8;
    public static final long WC_OPCODE = 12;
    public static final long WC_VENDOR_ERR = 16;
    public static final long WC_BYTE_LEN = 20;
    /** The union of {@code imm_data} and {@code invalidated_rkey}. */
    public static final long WC_IMM_DATA = 24;
    public static final long WC_QP_NUM = 28;
    public static final long WC_FLAGS = 36;

    // struct ibv_qp_init_attr with its struct ibv_qp_cap
    public static final long QP_INIT_ATTR_BYTES = 64;
    public static final long QP_INIT_ATTR_QP_CONTEXT = 0;
    public static final long QP_INIT_ATTR_SEND_CQ = 8;
    public static final long QP_INIT_ATTR_RECV_CQ = 16;
    public static final long QP_INIT_ATTR_SRQ = 24;
    public static final long QP_INIT_ATTR_MAX_SEND_WR = 32;
    public static final long QP_INIT_ATTR_MAX_RECV_WR = 36;
    public static final long QP_INIT_ATTR_MAX_SEND_SGE = 40;
    public static final long QP_INIT_ATTR_MAX_RECV_SGE = 44;
    public static final long QP_INIT_ATTR_MAX_INLINE_DATA = 48;
    public static final long QP_INIT_ATTR_QP_TYPE = 52;
    public static final long QP_INIT_ATTR_SQ_SIG_ALL = 56;

    // struct ibv_device_attr (ibv_query_device): the limits Keel sizes its queues by
    public static final long DEVICE_ATTR_BYTES = 232;
    public static final long DEVICE_ATTR_MAX_QP = 108;
    public static final long DEVICE_ATTR_MAX_QP_WR = 112;
    public static final long DEVICE_ATTR_MAX_SGE = 120;
    public static final long DEVICE_ATTR_MAX_CQ = 128;
    public static final long DEVICE_ATTR_MAX_CQE = 132;
    public static final long DEVICE_ATTR_MAX_MR = 136;
    public static final long DEVICE_ATTR_MAX_PD = 140;
    public static final long DEVICE_ATTR_MAX_QP_RD_ATOM = 144;
    public static final long DEVICE_ATTR_MAX_QP_INIT_RD_ATOM = 156;
    public static final long DEVICE_ATTR_MAX_SRQ = 212;
    public static final long DEVICE_ATTR_MAX_SRQ_WR = 216;
    public static final long DEVICE_ATTR_MAX_SRQ_SGE = 220;

    // struct ibv_srq_init_attr with its struct ibv_srq_attr, and struct ibv_srq
    public static final long SRQ_INIT_ATTR_BYTES = 24;
    public static final long SRQ_INIT_ATTR_SRQ_CONTEXT = 0;
    public static final long SRQ_INIT_ATTR_MAX_WR = 8;
    public static final long SRQ_INIT_ATTR_MAX_SGE = 12;
    public static final long SRQ_INIT_ATTR_SRQ_LIMIT = 16;
    public static final long SRQ_CONTEXT = 0;
    public static final long SRQ_END = 8;

    // struct ibv_qp, struct ibv_cq, struct ibv_mr, struct ibv_comp_channel
    public static final long QP_CONTEXT = 0;
    public static final long QP_QP_CONTEXT = 8;
    public static final long QP_NUM = 52;
    public static final long QP_END = 56;
    public static final long CQ_CONTEXT = 0;
    public static final long CQ_CQE = 28;
    public static final long CQ_END = 32;
    public static final long MR_ADDR = 16;
    public static final long MR_LKEY = 36;
    public static final long MR_RKEY = 40;
    public static final long MR_END = 44;
    public static final long COMP_CHANNEL_FD = 8;
    public static final long COMP_CHANNEL_END = 12;

    // struct rdma_event_channel, struct rdma_cm_id (route.addr's two sockaddr_storage unions)
    public static final long EVENT_CHANNEL_FD = 0;
    public static final long CM_ID_VERBS = 0;
    public static final long CM_ID_CONTEXT = 16;
    public static final long CM_ID_QP = 24;
    public static final long CM_ID_SRC_ADDR = 32;
    public static final long CM_ID_DST_ADDR = 160;
    public static final long CM_ID_PORT_NUM = 348;
    public static final long CM_ID_END = 349;

    // struct rdma_cm_event (param.conn for connected port spaces)
    public static final long CM_EVENT_BYTES = 80;
    public static final long CM_EVENT_ID = 0;
    public static final long CM_EVENT_LISTEN_ID = 8;
    public static final long CM_EVENT_EVENT = 16;
    public static final long CM_EVENT_STATUS = 20;
    public static final long CM_EVENT_PRIVATE_DATA = 24;
    public static final long CM_EVENT_PRIVATE_DATA_LEN = 32;
    public static final long CM_EVENT_RESPONDER_RESOURCES = 33;
    public static final long CM_EVENT_INITIATOR_DEPTH = 34;

    // struct rdma_conn_param
    public static final long CONN_PARAM_BYTES = 24;
    public static final long CONN_PARAM_PRIVATE_DATA = 0;
    public static final long CONN_PARAM_PRIVATE_DATA_LEN = 8;
    public static final long CONN_PARAM_RESPONDER_RESOURCES = 9;
    public static final long CONN_PARAM_INITIATOR_DEPTH = 10;
    public static final long CONN_PARAM_FLOW_CONTROL = 11;
    public static final long CONN_PARAM_RETRY_COUNT = 12;
    public static final long CONN_PARAM_RNR_RETRY_COUNT = 13;
    public static final long CONN_PARAM_SRQ = 14;
    public static final long CONN_PARAM_QP_NUM = 16;

    // <netinet/in.h>: struct sockaddr_in, struct sockaddr_in6
    public static final long SOCKADDR_IN_BYTES = 16;
    public static final long SOCKADDR_IN6_BYTES = 28;
    public static final long SOCKADDR_STORAGE_BYTES = 128;
    public static final long SOCKADDR_FAMILY = 0;
    /** sin_port and sin6_port, in network byte order. */
    public static final long SOCKADDR_PORT = 2;
    public static final long SOCKADDR_IN_ADDR = 4;
    public static final long SOCKADDR_IN6_ADDR = 8;
    public static final long SOCKADDR_IN6_SCOPE_ID = 24;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    // enums
    public static final int RDMA_PS_TCP = 0x0106;
    public static final int IBV_QPT_RC = 2;
    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_RDMA_WRITE_WITH_IMM = 1;
    public static final int IBV_WR_SEND = 2;
    public static final int IBV_WR_SEND_WITH_IMM = 3;
    public static final int IBV_WR_RDMA_READ = 4;
    public static final int IBV_WR_SEND_WITH_INV = 9;
    public static final int IBV_SEND_FENCE = 1;
    public static final int IBV_SEND_SIGNALED = 1 << 1;
    public static final int IBV_SEND_SOLICITED = 1 << 2;
    public static final int IBV_SEND_INLINE = 1 << 3;
    public static final int IBV_WC_SUCCESS = 0;
    public static final int IBV_WC_WR_FLUSH_ERR = 5;
    public static final int IBV_WC_SEND = 0;
    public static final int IBV_WC_RDMA_WRITE = 1;
    public static final int IBV_WC_RDMA_READ = 2;
    public static final int IBV_WC_RECV = 1 << 7;
    public static final int IBV_WC_RECV_RDMA_WITH_IMM = (1 << 7) + 1;
    public static final int IBV_WC_WITH_IMM = 1 << 1;
    public static final int IBV_WC_WITH_INV = 1 << 3;
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 1 << 1;
    public static final int IBV_ACCESS_REMOTE_READ = 1 << 2;
}
