package io.keel.nvmf.rdma;

import io.keel.nvme.spec.Sqe;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.ProtectionDomain;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.ReceiveQueue;
import io.keel.rdma.RecvWorkRequests;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntToLongFunction;

/**
 * The capsule buffers of one receive queue — a qpair's own ({@code no_srq}) or a poll group's shared receive queue on
 * one device — with a receive work request each: one native table registered once, buffer {@code i} posted by
 * receive {@code i}, a capsule (SQE and in-capsule data) read in place; where each buffer is, its {@link ReceiveChain}.
 * What the two kinds of receive queue share; one owner thread.
 *
 * <p>{@link #close} deregisters at once but frees the table only once no buffer is held: a command still executing
 * reads its capsule until it comes back ({@link #repost} and {@link #drop} then only count it back).
 */
final class RdmaReceives implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final int capsuleSize;
    private final MemorySegment[] capsules;
    private final MemorySegment[] dataAreas;
    /** The last cut of each buffer's in-capsule data, kept while offset and length repeat (no view per command). */
    private final MemorySegment[] dataViews;
    private final MemoryRegion region;
    private final RecvWorkRequests recvs;
    private final ReceiveChain chain;
    private boolean closed;

    /**
     * Makes and registers {@code count} buffers of {@code capsuleSize} bytes in {@code pd}, receive {@code i} carrying
     * id {@code workRequestId(i)}, every one queued for the first {@link #flush}; throws
     * {@link io.keel.rdma.RdmaException} if the device refuses, having freed what it made.
     */
    RdmaReceives(ProtectionDomain pd, int count, int capsuleSize, IntToLongFunction workRequestId) {
        this.capsuleSize = capsuleSize;
        MemorySegment table = arena.allocate((long) count * capsuleSize, 64);
        try {
            this.region = pd.register(table, RdmaAbi.IBV_ACCESS_LOCAL_WRITE);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        this.recvs = new RecvWorkRequests(count, 1);
        this.capsules = new MemorySegment[count];
        this.dataAreas = new MemorySegment[count];
        this.dataViews = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            capsules[i] = table.asSlice((long) i * capsuleSize, capsuleSize);
            dataAreas[i] = capsules[i].asSlice(Sqe.SIZE);
            recvs.single(i, region, capsules[i].address(), capsuleSize);
            recvs.id(i, workRequestId.applyAsLong(i));
        }
        this.chain = new ReceiveChain(recvs);
    }

    int count() {
        return capsules.length;
    }

    int capsuleSize() {
        return capsuleSize;
    }

    /** Buffer {@code i}'s capsule: the SQE, then the in-capsule data. */
    MemorySegment capsule(int i) {
        return capsules[i];
    }

    /** {@code length} bytes of buffer {@code i}'s in-capsule data from {@code offset} (a view kept while alike). */
    MemorySegment inCapsuleData(int i, long offset, long length) {
        MemorySegment area = dataAreas[i];
        if (offset == 0 && length == area.byteSize()) {
            return area;
        }
        MemorySegment v = dataViews[i];
        if (v == null || v.byteSize() != length || v.address() != area.address() + offset) {
            v = area.asSlice(offset, length);
            dataViews[i] = v;
        }
        return v;
    }

    /** Receive {@code i} completed (a capsule, or flushed): its buffer is held until reposted or dropped. */
    void received(int i) {
        chain.received(i);
    }

    /** Buffer {@code i} is done with: queued for the next {@link #flush} (only counted back once closed). */
    void repost(int i) {
        chain.repost(i);
        freeIfDone();
    }

    /** Buffer {@code i} is done with and not posted again (its qpair is closing). */
    void drop(int i) {
        chain.drop(i);
        freeIfDone();
    }

    /** Whether receives wait to be posted. */
    boolean pending() {
        return chain.pending();
    }

    /** Receives posted or queued, not completed yet. */
    int outstanding() {
        return chain.posted() + chain.queued();
    }

    int posted() {
        return chain.posted();
    }

    /** Posts the queued receives to {@code queue} in one call: 0, or its -errno ({@link ReceiveChain#flush}). */
    int flush(ReceiveQueue queue, RdmaDeviceStats stats) {
        return closed ? 0 : chain.flush(queue, stats);
    }

    /** Deregisters (idempotent); the table goes once no buffer is held. The queue it posted to is destroyed first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        chain.close();
        region.close();
        recvs.close();
        freeIfDone();
    }

    private void freeIfDone() {
        if (closed && chain.held() == 0 && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
