package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/**
 * Memory registered with a protection domain ({@code ibv_reg_mr}): the local key for scatter/gather entries and the
 * remote key a peer names in RDMA READ and WRITE. The owner closes it ({@code ibv_dereg_mr}) before freeing the memory.
 */
public final class MemoryRegion implements AutoCloseable {
    private final MemorySegment memory;
    private final int lkey;
    private final int rkey;
    private MemorySegment mr;

    MemoryRegion(MemorySegment mr, MemorySegment memory) {
        this.mr = mr.reinterpret(RdmaAbi.MR_END);
        this.memory = memory;
        this.lkey = this.mr.get(JAVA_INT, RdmaAbi.MR_LKEY);
        this.rkey = this.mr.get(JAVA_INT, RdmaAbi.MR_RKEY);
    }

    /** The registered memory. */
    public MemorySegment memory() {
        return memory;
    }

    public long address() {
        return memory.address();
    }

    public int lkey() {
        return lkey;
    }

    public int rkey() {
        return rkey;
    }

    /** Deregisters (idempotent); throws {@link RdmaException} when the provider refuses. */
    @Override
    public void close() {
        if (mr == null) {
            return;
        }
        NativeCalls.destroyed("ibv_dereg_mr", RdmaNative.IBV_DEREG_MR, mr);
        mr = null;
    }
}
