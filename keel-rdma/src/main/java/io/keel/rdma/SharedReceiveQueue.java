package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A shared receive queue ({@code ibv_create_srq}): receive work requests posted once for every queue pair created
 * with it ({@link CmId#createQueuePair(ProtectionDomain, CompletionQueue, CompletionQueue, SharedReceiveQueue,
 * QueuePairCapabilities)}); a receive's completion names the queue pair that took it
 * ({@link WorkCompletions#queuePairNumber}). {@link #postReceive} is verbs.h's inline {@code ibv_post_srq_recv}, a
 * call through the provider's function pointer read once here. One owner thread; closed after every queue pair that
 * uses it, before its protection domain. Requests still posted at close are dropped without completions.
 */
public final class SharedReceiveQueue implements ReceiveQueue, AutoCloseable {
    private final MemorySegment postFn;
    private final int capacity;
    private final int maxSge;
    private MemorySegment srq;

    private SharedReceiveQueue(MemorySegment srq, int capacity, int maxSge) {
        this.srq = srq.reinterpret(RdmaAbi.SRQ_END);
        this.capacity = capacity;
        this.maxSge = maxSge;
        this.postFn = VerbsContext.operation(this.srq, RdmaAbi.SRQ_CONTEXT, RdmaAbi.CONTEXT_OPS_POST_SRQ_RECV);
    }

    /** {@code ibv_create_srq(pd, attr)} for at least {@code maxWr} requests of {@code maxSge} entries each. */
    static SharedReceiveQueue create(ProtectionDomain pd, int maxWr, int maxSge) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(RdmaAbi.SRQ_INIT_ATTR_BYTES, 8);
            attr.set(JAVA_INT, RdmaAbi.SRQ_INIT_ATTR_MAX_WR, maxWr);
            attr.set(JAVA_INT, RdmaAbi.SRQ_INIT_ATTR_MAX_SGE, maxSge);
            MemorySegment pdSegment = pd.segment();
            MemorySegment srq = NativeCalls.created("ibv_create_srq(" + maxWr + " requests, " + maxSge + " sge)",
                    cs -> (MemorySegment) RdmaNative.IBV_CREATE_SRQ.invokeExact(cs, pdSegment, attr));
            // the provider writes back what it granted (at least what was asked)
            return new SharedReceiveQueue(srq, attr.get(JAVA_INT, RdmaAbi.SRQ_INIT_ATTR_MAX_WR),
                    attr.get(JAVA_INT, RdmaAbi.SRQ_INIT_ATTR_MAX_SGE));
        }
    }

    /** The receive work requests it holds at most, as granted. */
    public int capacity() {
        return capacity;
    }

    public int maxSge() {
        return maxSge;
    }

    MemorySegment segment() {
        if (srq == null) {
            throw new IllegalStateException("shared receive queue closed");
        }
        return srq;
    }

    @Override
    public int postReceive(RecvWorkRequests requests, int first) {
        if (srq == null) {
            return -Libc.EBADF;
        }
        requests.badRequest.set(JAVA_LONG, 0, 0L);
        try {
            int rc = (int) RdmaNative.POST_WORK_REQUESTS.invokeExact(postFn, srq, requests.slot(first),
                    requests.badRequest);
            return -Math.abs(rc); // providers return an errno, some negated
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Destroys the queue (idempotent); throws {@link RdmaException} ({@code -EBUSY}) while a queue pair uses it. */
    @Override
    public void close() {
        if (srq == null) {
            return;
        }
        NativeCalls.destroyed("ibv_destroy_srq", RdmaNative.IBV_DESTROY_SRQ, srq);
        srq = null;
    }
}
