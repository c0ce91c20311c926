package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reliable-connected queue pair made by {@code rdma_create_qp} on a cm id, which moves it through its states as the
 * connection is made. {@link #postSend} and {@link #postReceive} are verbs.h's inline {@code ibv_post_send} and
 * {@code ibv_post_recv}: calls through the provider's function pointers, read once here. Owned by its cm id's owner;
 * closed ({@code rdma_destroy_qp}) before the id and before its completion queues.
 */
public final class QueuePair implements ReceiveQueue, AutoCloseable {
    private final CmId id;
    private final MemorySegment qp;
    private final MemorySegment postSendFn;
    private final MemorySegment postRecvFn;
    private final QueuePairCapabilities capabilities;
    private boolean closed;

    private QueuePair(CmId id, MemorySegment qp, QueuePairCapabilities capabilities) {
        this.id = id;
        this.qp = qp.reinterpret(RdmaAbi.QP_END);
        this.capabilities = capabilities;
        this.postSendFn = VerbsContext.operation(this.qp, RdmaAbi.QP_CONTEXT, RdmaAbi.CONTEXT_OPS_POST_SEND);
        this.postRecvFn = VerbsContext.operation(this.qp, RdmaAbi.QP_CONTEXT, RdmaAbi.CONTEXT_OPS_POST_RECV);
    }

    /**
     * {@code rdma_create_qp(id, pd, attr)}: RC, completions only for requests flagged SIGNALED; its receives come from
     * {@code srq} when not null (the receive sizes asked for are then ignored).
     */
    static QueuePair create(CmId id, ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            SharedReceiveQueue srq, QueuePairCapabilities wanted, long context) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            MemorySegment attr = arena.allocate(RdmaAbi.QP_INIT_ATTR_BYTES, 8);
            attr.set(JAVA_LONG, RdmaAbi.QP_INIT_ATTR_QP_CONTEXT, context);
            attr.set(ADDRESS, RdmaAbi.QP_INIT_ATTR_SEND_CQ, sendCq.segment());
            attr.set(ADDRESS, RdmaAbi.QP_INIT_ATTR_RECV_CQ, recvCq.segment());
            if (srq != null) {
                attr.set(ADDRESS, RdmaAbi.QP_INIT_ATTR_SRQ, srq.segment());
            }
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_SEND_WR, wanted.maxSendWr());
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_RECV_WR, wanted.maxRecvWr());
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_SEND_SGE, wanted.maxSendSge());
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_RECV_SGE, wanted.maxRecvSge());
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_INLINE_DATA, wanted.maxInlineData());
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_QP_TYPE, RdmaAbi.IBV_QPT_RC);
            attr.set(JAVA_INT, RdmaAbi.QP_INIT_ATTR_SQ_SIG_ALL, 0);
            int rc = (int) RdmaNative.RDMA_CREATE_QP.invokeExact(callState, id.segment(), pd.segment(), attr);
            if (rc != 0) {
                throw new RdmaException("rdma_create_qp(" + wanted + ")", -Libc.errno(callState));
            }
            QueuePairCapabilities granted = new QueuePairCapabilities(
                    attr.get(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_SEND_WR),
                    attr.get(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_RECV_WR),
                    attr.get(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_SEND_SGE),
                    attr.get(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_RECV_SGE),
                    attr.get(JAVA_INT, RdmaAbi.QP_INIT_ATTR_MAX_INLINE_DATA));
            MemorySegment qp = id.segment().get(ADDRESS, RdmaAbi.CM_ID_QP);
            return new QueuePair(id, qp, granted);
        } catch (RdmaException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** What the provider granted. */
    public QueuePairCapabilities capabilities() {
        return capabilities;
    }

    /** The queue pair number, as work completions carry it. */
    public int number() {
        return qp.get(JAVA_INT, RdmaAbi.QP_NUM);
    }

    /**
     * Posts the chain of send work requests that starts at slot {@code first} ({@link WorkRequests#chain},
     * {@link WorkRequests#link}) with one call: 0, or {@code -errno} with {@link WorkRequests#failedSlot} naming the
     * first request not posted (those before it were).
     */
    public int postSend(SendWorkRequests requests, int first) {
        return post(postSendFn, requests, first);
    }

    /**
     * Posts the chain of receive work requests that starts at slot {@code first}; as {@link #postSend}. Not for a
     * queue pair that takes its receives from a shared receive queue.
     */
    @Override
    public int postReceive(RecvWorkRequests requests, int first) {
        return post(postRecvFn, requests, first);
    }

    private int post(MemorySegment fn, WorkRequests requests, int first) {
        if (closed) {
            return -Libc.EBADF;
        }
        requests.badRequest.set(JAVA_LONG, 0, 0L);
        try {
            int rc = (int) RdmaNative.POST_WORK_REQUESTS.invokeExact(fn, qp, requests.slot(first),
                    requests.badRequest);
            return -Math.abs(rc); // providers return an errno, some negated
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Destroys the queue pair (idempotent; {@code rdma_destroy_qp}). Requests still posted are dropped without
     * completions: disconnect and drain the completion queues first where they matter.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            RdmaNative.RDMA_DESTROY_QP.invokeExact(id.segment());
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        id.queuePairClosed();
    }
}
