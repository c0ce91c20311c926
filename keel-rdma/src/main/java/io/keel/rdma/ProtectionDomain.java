package io.keel.rdma;

import java.lang.foreign.MemorySegment;

/**
 * A protection domain ({@code ibv_alloc_pd}): what memory regions and queue pairs are registered in. Owned by whoever
 * allocated it, who closes it after every region and queue pair in it.
 */
public final class ProtectionDomain implements AutoCloseable {
    private MemorySegment pd;

    private ProtectionDomain(MemorySegment pd) {
        this.pd = pd;
    }

    static ProtectionDomain allocate(MemorySegment context) {
        return new ProtectionDomain(NativeCalls.created("ibv_alloc_pd",
                cs -> (MemorySegment) RdmaNative.IBV_ALLOC_PD.invokeExact(cs, context)));
    }

    /**
     * Registers native memory for RDMA ({@code ibv_reg_mr}) with the given {@code RdmaAbi.IBV_ACCESS_*} flags: local
     * use always, remote read and write where the flags say. The segment must stay allocated until the region closes.
     */
    public MemoryRegion register(MemorySegment memory, int access) {
        if (!memory.isNative()) {
            throw new IllegalArgumentException("only native memory can be registered");
        }
        MemorySegment pd = segment();
        MemorySegment mr = NativeCalls.created("ibv_reg_mr(" + memory.byteSize() + " bytes)",
                cs -> (MemorySegment) RdmaNative.IBV_REG_MR.invokeExact(cs, pd, memory, memory.byteSize(), access));
        return new MemoryRegion(mr, memory);
    }

    /**
     * A shared receive queue in this domain ({@code ibv_create_srq}) for at least {@code maxWr} receive work requests
     * of {@code maxSge} entries each; closed by its owner after its queue pairs, before this domain.
     */
    public SharedReceiveQueue createSharedReceiveQueue(int maxWr, int maxSge) {
        return SharedReceiveQueue.create(this, maxWr, maxSge);
    }

    MemorySegment segment() {
        if (pd == null) {
            throw new IllegalStateException("protection domain closed");
        }
        return pd;
    }

    /**
     * Deallocates (idempotent). Throws {@link RdmaException} ({@code -EBUSY} while regions, queue pairs or shared
     * receive queues remain in it; it stays open then).
     */
    @Override
    public void close() {
        if (pd == null) {
            return;
        }
        NativeCalls.destroyed("ibv_dealloc_pd", RdmaNative.IBV_DEALLOC_PD, pd);
        pd = null;
    }
}
