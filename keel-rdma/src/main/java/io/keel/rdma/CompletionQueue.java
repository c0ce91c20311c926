package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * A completion queue ({@code ibv_create_cq}). {@link #poll} and {@link #requestNotify} are verbs.h's inline
 * {@code ibv_poll_cq} and {@code ibv_req_notify_cq}: calls through the provider's function pointers, read once here.
 * Owned and polled by one thread; closed after the queue pairs that use it.
 */
public final class CompletionQueue implements AutoCloseable {
    private final MemorySegment pollFn;
    private final MemorySegment notifyFn;
    private final int capacity;
    private MemorySegment cq;

    private CompletionQueue(MemorySegment cq) {
        this.cq = cq.reinterpret(RdmaAbi.CQ_END);
        this.capacity = this.cq.get(JAVA_INT, RdmaAbi.CQ_CQE);
        this.pollFn = VerbsContext.operation(this.cq, RdmaAbi.CQ_CONTEXT, RdmaAbi.CONTEXT_OPS_POLL_CQ);
        this.notifyFn = VerbsContext.operation(this.cq, RdmaAbi.CQ_CONTEXT, RdmaAbi.CONTEXT_OPS_REQ_NOTIFY_CQ);
    }

    static CompletionQueue create(MemorySegment context, int entries, CompletionChannel channel) {
        MemorySegment ch = channel == null ? MemorySegment.NULL : channel.segment();
        return new CompletionQueue(NativeCalls.created("ibv_create_cq(" + entries + " entries)",
                cs -> (MemorySegment) RdmaNative.IBV_CREATE_CQ.invokeExact(cs, context, entries, MemorySegment.NULL,
                        ch, 0)));
    }

    /** The entries the provider gave it (at least those asked for). */
    public int capacity() {
        return capacity;
    }

    /** What {@link CompletionChannel#nextEvent} returns for this queue. */
    public long address() {
        return segment().address();
    }

    MemorySegment segment() {
        if (cq == null) {
            throw new IllegalStateException("completion queue closed");
        }
        return cq;
    }

    /** Takes up to {@code max} completions into {@code into} from its start: how many, or a negative error. */
    public int poll(WorkCompletions into, int max) {
        if (cq == null) {
            return -Libc.EBADF;
        }
        try {
            return (int) RdmaNative.POLL_CQ.invokeExact(pollFn, cq, Math.min(max, into.capacity()), into.segment());
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Arms the queue: its next completion (or next solicited one) raises one event on its channel. Poll once more
     * after arming, or a completion that arrived in between is seen only at the next one. 0 or {@code -errno}.
     */
    public int requestNotify(boolean solicitedOnly) {
        if (cq == null) {
            return -Libc.EBADF;
        }
        try {
            int rc = (int) RdmaNative.REQ_NOTIFY_CQ.invokeExact(notifyFn, cq, solicitedOnly ? 1 : 0);
            return -Math.abs(rc);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Destroys the queue (idempotent); throws {@link RdmaException} while a queue pair still uses it. */
    @Override
    public void close() {
        if (cq == null) {
            return;
        }
        NativeCalls.destroyed("ibv_destroy_cq", RdmaNative.IBV_DESTROY_CQ, cq);
        cq = null;
    }
}
