package io.keel.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every constant of {@link RdmaAbi} and every {@link CmEventType} value against rdma-core's headers: a C program
 * compiled here prints each one's offsetof, sizeof or enum value, and the test compares. Skipped, saying why, where
 * there is no C compiler or no headers.
 */
class RdmaAbiTest {
    private static final Path VERBS_H = Path.of("/usr/include/infiniband/verbs.h");
    private static final Path CMA_H = Path.of("/usr/include/rdma/rdma_cma.h");

    /** Each constant's C expression. */
    private static final Map<String, String> C = new LinkedHashMap<>();

    static {
        c("CONTEXT_DEVICE", "offsetof(struct ibv_context, device)");
        c("CONTEXT_OPS_POLL_CQ", "offsetof(struct ibv_context, ops.poll_cq)");
        c("CONTEXT_OPS_REQ_NOTIFY_CQ", "offsetof(struct ibv_context, ops.req_notify_cq)");
        c("CONTEXT_OPS_POST_SRQ_RECV", "offsetof(struct ibv_context, ops.post_srq_recv)");
        c("CONTEXT_OPS_POST_SEND", "offsetof(struct ibv_context, ops.post_send)");
        c("CONTEXT_OPS_POST_RECV", "offsetof(struct ibv_context, ops.post_recv)");
        c("CONTEXT_OPS_END", "offsetof(struct ibv_context, ops.post_recv) + sizeof(void *)");
        c("CONTEXT_ASYNC_FD", "offsetof(struct ibv_context, async_fd)");
        c("CONTEXT_END", "offsetof(struct ibv_context, async_fd) + sizeof(int)");
        c("ASYNC_EVENT_BYTES", "sizeof(struct ibv_async_event)");
        c("ASYNC_EVENT_ELEMENT", "offsetof(struct ibv_async_event, element)");
        c("ASYNC_EVENT_TYPE", "offsetof(struct ibv_async_event, event_type)");
        c("SGE_BYTES", "sizeof(struct ibv_sge)");
        c("SGE_ADDR", "offsetof(struct ibv_sge, addr)");
        c("SGE_LENGTH", "offsetof(struct ibv_sge, length)");
        c("SGE_LKEY", "offsetof(struct ibv_sge, lkey)");
        c("SEND_WR_BYTES", "sizeof(struct ibv_send_wr)");
        c("SEND_WR_ID", "offsetof(struct ibv_send_wr, wr_id)");
        c("SEND_WR_NEXT", "offsetof(struct ibv_send_wr, next)");
        c("SEND_WR_SG_LIST", "offsetof(struct ibv_send_wr, sg_list)");
        c("SEND_WR_NUM_SGE", "offsetof(struct ibv_send_wr, num_sge)");
        c("SEND_WR_OPCODE", "offsetof(struct ibv_send_wr, opcode)");
        c("SEND_WR_SEND_FLAGS", "offsetof(struct ibv_send_wr, send_flags)");
        c("SEND_WR_IMM_DATA", "offsetof(struct ibv_send_wr, imm_data)");
        c("SEND_WR_RDMA_REMOTE_ADDR", "offsetof(struct ibv_send_wr, wr.rdma.remote_addr)");
        c("SEND_WR_RDMA_RKEY", "offsetof(struct ibv_send_wr, wr.rdma.rkey)");
        c("RECV_WR_BYTES", "sizeof(struct ibv_recv_wr)");
        c("RECV_WR_ID", "offsetof(struct ibv_recv_wr, wr_id)");
        c("RECV_WR_NEXT", "offsetof(struct ibv_recv_wr, next)");
        c("RECV_WR_SG_LIST", "offsetof(struct ibv_recv_wr, sg_list)");
        c("RECV_WR_NUM_SGE", "offsetof(struct ibv_recv_wr, num_sge)");
        c("WC_BYTES", "sizeof(struct ibv_wc)");
        c("WC_ID", "offsetof(struct ibv_wc, wr_id)");
        c("WC_STATUS", "offsetof(struct ibv_wc, status)");
        c("WC_OPCODE", "offsetof(struct ibv_wc, opcode)");
        c("WC_VENDOR_ERR", "offsetof(struct ibv_wc, vendor_err)");
        c("WC_BYTE_LEN", "offsetof(struct ibv_wc, byte_len)");
        c("WC_IMM_DATA", "offsetof(struct ibv_wc, imm_data)");
        c("WC_QP_NUM", "offsetof(struct ibv_wc, qp_num)");
        c("WC_FLAGS", "offsetof(struct ibv_wc, wc_flags)");
        c("QP_INIT_ATTR_BYTES", "sizeof(struct ibv_qp_init_attr)");
        c("QP_INIT_ATTR_QP_CONTEXT", "offsetof(struct ibv_qp_init_attr, qp_context)");
        c("QP_INIT_ATTR_SEND_CQ", "offsetof(struct ibv_qp_init_attr, send_cq)");
        c("QP_INIT_ATTR_RECV_CQ", "offsetof(struct ibv_qp_init_attr, recv_cq)");
        c("QP_INIT_ATTR_SRQ", "offsetof(struct ibv_qp_init_attr, srq)");
        c("QP_INIT_ATTR_MAX_SEND_WR", "offsetof(struct ibv_qp_init_attr, cap.max_send_wr)");
        c("QP_INIT_ATTR_MAX_RECV_WR", "offsetof(struct ibv_qp_init_attr, cap.max_recv_wr)");
        c("QP_INIT_ATTR_MAX_SEND_SGE", "offsetof(struct ibv_qp_init_attr, cap.max_send_sge)");
        c("QP_INIT_ATTR_MAX_RECV_SGE", "offsetof(struct ibv_qp_init_attr, cap.max_recv_sge)");
        c("QP_INIT_ATTR_MAX_INLINE_DATA", "offsetof(struct ibv_qp_init_attr, cap.max_inline_data)");
        c("QP_INIT_ATTR_QP_TYPE", "offsetof(struct ibv_qp_init_attr, qp_type)");
        c("QP_INIT_ATTR_SQ_SIG_ALL", "offsetof(struct ibv_qp_init_attr, sq_sig_all)");
        c("DEVICE_ATTR_BYTES", "sizeof(struct ibv_device_attr)");
        for (String field : new String[] {"max_qp", "max_qp_wr", "max_sge", "max_cq", "max_cqe", "max_mr", "max_pd",
                "max_qp_rd_atom", "max_qp_init_rd_atom", "max_srq", "max_srq_wr", "max_srq_sge"}) {
            c("DEVICE_ATTR_" + field.toUpperCase(Locale.ROOT), "offsetof(struct ibv_device_attr, " + field + ")");
        }
        c("SRQ_INIT_ATTR_BYTES", "sizeof(struct ibv_srq_init_attr)");
        c("SRQ_INIT_ATTR_SRQ_CONTEXT", "offsetof(struct ibv_srq_init_attr, srq_context)");
        c("SRQ_INIT_ATTR_MAX_WR", "offsetof(struct ibv_srq_init_attr, attr.max_wr)");
        c("SRQ_INIT_ATTR_MAX_SGE", "offsetof(struct ibv_srq_init_attr, attr.max_sge)");
        c("SRQ_INIT_ATTR_SRQ_LIMIT", "offsetof(struct ibv_srq_init_attr, attr.srq_limit)");
        c("SRQ_CONTEXT", "offsetof(struct ibv_srq, context)");
        c("SRQ_END", "offsetof(struct ibv_srq, context) + sizeof(void *)");
        c("QP_CONTEXT", "offsetof(struct ibv_qp, context)");
        c("QP_QP_CONTEXT", "offsetof(struct ibv_qp, qp_context)");
        c("QP_NUM", "offsetof(struct ibv_qp, qp_num)");
        c("QP_END", "offsetof(struct ibv_qp, qp_num) + sizeof(uint32_t)");
        c("CQ_CONTEXT", "offsetof(struct ibv_cq, context)");
        c("CQ_CQE", "offsetof(struct ibv_cq, cqe)");
        c("CQ_END", "offsetof(struct ibv_cq, cqe) + sizeof(int)");
        c("MR_ADDR", "offsetof(struct ibv_mr, addr)");
        c("MR_LKEY", "offsetof(struct ibv_mr, lkey)");
        c("MR_RKEY", "offsetof(struct ibv_mr, rkey)");
        c("MR_END", "offsetof(struct ibv_mr, rkey) + sizeof(uint32_t)");
        c("COMP_CHANNEL_FD", "offsetof(struct ibv_comp_channel, fd)");
        c("COMP_CHANNEL_END", "offsetof(struct ibv_comp_channel, fd) + sizeof(int)");
        c("EVENT_CHANNEL_FD", "offsetof(struct rdma_event_channel, fd)");
        c("CM_ID_VERBS", "offsetof(struct rdma_cm_id, verbs)");
        c("CM_ID_CONTEXT", "offsetof(struct rdma_cm_id, context)");
        c("CM_ID_QP", "offsetof(struct rdma_cm_id, qp)");
        c("CM_ID_SRC_ADDR", "offsetof(struct rdma_cm_id, route.addr.src_addr)");
        c("CM_ID_DST_ADDR", "offsetof(struct rdma_cm_id, route.addr.dst_addr)");
        c("CM_ID_PORT_NUM", "offsetof(struct rdma_cm_id, port_num)");
        c("CM_ID_END", "offsetof(struct rdma_cm_id, port_num) + sizeof(uint8_t)");
        c("CM_EVENT_BYTES", "sizeof(struct rdma_cm_event)");
        c("CM_EVENT_ID", "offsetof(struct rdma_cm_event, id)");
        c("CM_EVENT_LISTEN_ID", "offsetof(struct rdma_cm_event, listen_id)");
        c("CM_EVENT_EVENT", "offsetof(struct rdma_cm_event, event)");
        c("CM_EVENT_STATUS", "offsetof(struct rdma_cm_event, status)");
        c("CM_EVENT_PRIVATE_DATA", "offsetof(struct rdma_cm_event, param.conn.private_data)");
        c("CM_EVENT_PRIVATE_DATA_LEN", "offsetof(struct rdma_cm_event, param.conn.private_data_len)");
        c("CM_EVENT_RESPONDER_RESOURCES", "offsetof(struct rdma_cm_event, param.conn.responder_resources)");
        c("CM_EVENT_INITIATOR_DEPTH", "offsetof(struct rdma_cm_event, param.conn.initiator_depth)");
        c("CONN_PARAM_BYTES", "sizeof(struct rdma_conn_param)");
        c("CONN_PARAM_PRIVATE_DATA", "offsetof(struct rdma_conn_param, private_data)");
        c("CONN_PARAM_PRIVATE_DATA_LEN", "offsetof(struct rdma_conn_param, private_data_len)");
        c("CONN_PARAM_RESPONDER_RESOURCES", "offsetof(struct rdma_conn_param, responder_resources)");
        c("CONN_PARAM_INITIATOR_DEPTH", "offsetof(struct rdma_conn_param, initiator_depth)");
        c("CONN_PARAM_FLOW_CONTROL", "offsetof(struct rdma_conn_param, flow_control)");
        c("CONN_PARAM_RETRY_COUNT", "offsetof(struct rdma_conn_param, retry_count)");
        c("CONN_PARAM_RNR_RETRY_COUNT", "offsetof(struct rdma_conn_param, rnr_retry_count)");
        c("CONN_PARAM_SRQ", "offsetof(struct rdma_conn_param, srq)");
        c("CONN_PARAM_QP_NUM", "offsetof(struct rdma_conn_param, qp_num)");
        c("SOCKADDR_IN_BYTES", "sizeof(struct sockaddr_in)");
        c("SOCKADDR_IN6_BYTES", "sizeof(struct sockaddr_in6)");
        c("SOCKADDR_STORAGE_BYTES", "sizeof(struct sockaddr_storage)");
        c("SOCKADDR_FAMILY", "offsetof(struct sockaddr_in, sin_family)");
        c("SOCKADDR_PORT", "offsetof(struct sockaddr_in, sin_port)");
        c("SOCKADDR_IN_ADDR", "offsetof(struct sockaddr_in, sin_addr)");
        c("SOCKADDR_IN6_ADDR", "offsetof(struct sockaddr_in6, sin6_addr)");
        c("SOCKADDR_IN6_SCOPE_ID", "offsetof(struct sockaddr_in6, sin6_scope_id)");
        c("AF_INET", "AF_INET");
        c("AF_INET6", "AF_INET6");
        c("RDMA_PS_TCP", "RDMA_PS_TCP");
        c("IBV_QPT_RC", "IBV_QPT_RC");
        for (String name : new String[] {"IBV_WR_RDMA_WRITE", "IBV_WR_RDMA_WRITE_WITH_IMM", "IBV_WR_SEND",
                "IBV_WR_SEND_WITH_IMM", "IBV_WR_RDMA_READ", "IBV_WR_SEND_WITH_INV", "IBV_SEND_FENCE",
                "IBV_SEND_SIGNALED", "IBV_SEND_SOLICITED", "IBV_SEND_INLINE", "IBV_WC_SUCCESS", "IBV_WC_WR_FLUSH_ERR",
                "IBV_WC_SEND", "IBV_WC_RDMA_WRITE", "IBV_WC_RDMA_READ", "IBV_WC_RECV", "IBV_WC_RECV_RDMA_WITH_IMM",
                "IBV_WC_WITH_IMM", "IBV_WC_WITH_INV", "IBV_ACCESS_LOCAL_WRITE", "IBV_ACCESS_REMOTE_WRITE",
                "IBV_ACCESS_REMOTE_READ"}) {
            c(name, name);
        }
    }

    private static void c(String constant, String expression) {
        C.put(constant, expression);
    }

    @Test
    void everyConstantHasItsCExpression() throws IllegalAccessException {
        Map<String, Long> java = javaConstants();
        assertThat(C.keySet()).as("RdmaAbi constants and the C expressions checked here")
                .containsExactlyInAnyOrderElementsOf(java.keySet());
    }

    @Test
    void constantsMatchTheHeaders(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isReadable(VERBS_H) && Files.isReadable(CMA_H),
                "rdma-core's headers are not installed (libibverbs-dev, librdmacm-dev): " + VERBS_H + ", " + CMA_H);
        String cc = compiler();
        Assumptions.assumeTrue(cc != null, "no C compiler (cc/gcc) on PATH: the ABI check needs one");

        Map<String, String> checked = new LinkedHashMap<>(C);
        for (CmEventType type : CmEventType.values()) {
            checked.put("CmEventType." + type.name(), "RDMA_CM_EVENT_" + type.name());
        }
        for (AsyncEventType type : AsyncEventType.values()) {
            checked.put("AsyncEventType." + type.name(), "IBV_EVENT_" + type.name());
        }
        StringBuilder src = new StringBuilder("""
                #include <stdio.h>
                #include <stddef.h>
                #include <stdint.h>
                #include <netinet/in.h>
                #include <infiniband/verbs.h>
                #include <rdma/rdma_cma.h>
                int main(void) {
                """);
        checked.forEach((name, expr) -> src.append("    printf(\"%s %ld\\n\", \"").append(name).append("\", (long) (")
                .append(expr).append("));\n"));
        src.append("    return 0;\n}\n");
        Path c = dir.resolve("abi.c");
        Path exe = dir.resolve("abi");
        Files.writeString(c, src);
        run(cc, "-o", exe.toString(), c.toString());
        Map<String, Long> fromC = new TreeMap<>();
        for (String line : run(exe.toString()).split("\n")) {
            String[] parts = line.trim().split(" ");
            fromC.put(parts[0], Long.parseLong(parts[1]));
        }

        Map<String, Long> fromJava = new TreeMap<>(javaConstants());
        for (CmEventType type : CmEventType.values()) {
            fromJava.put("CmEventType." + type.name(), (long) type.ordinal());
        }
        for (AsyncEventType type : AsyncEventType.values()) {
            fromJava.put("AsyncEventType." + type.name(), (long) type.ordinal());
        }
        assertThat(fromJava).as("RdmaAbi, CmEventType and AsyncEventType against the headers (left: Java, right: C)")
                .containsExactlyInAnyOrderEntriesOf(fromC);
    }

    private static Map<String, Long> javaConstants() throws IllegalAccessException {
        Map<String, Long> constants = new TreeMap<>();
        for (Field f : RdmaAbi.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && Modifier.isPublic(f.getModifiers())) {
                constants.put(f.getName(), ((Number) f.get(null)).longValue());
            }
        }
        return constants;
    }

    private static String compiler() throws IOException, InterruptedException {
        for (String cc : new String[] {"cc", "gcc", "clang"}) {
            Process p = new ProcessBuilder("sh", "-c", "command -v " + cc).start();
            if (p.waitFor() == 0) {
                return cc;
            }
        }
        return null;
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", Arrays.toString(cmd)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", Arrays.toString(cmd), out).isZero();
        return out;
    }
}
