package io.keel.nvme.host.rdma;

import io.keel.core.mem.NativeArena;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.ProtectionDomain;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RdmaException;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RDMA host qpair's own registered memory: its capsules and response buffers (one region the device reads and
 * writes locally) and its bounce range (the controller reads and writes it remotely), registered in one
 * {@link RdmaDomain}. Made and freed on the {@link RdmaDomains} worker, since {@code ibv_reg_mr} pins every page (the
 * bounce range is megabytes: a reactor stall of ~100 ms under TCG when it was done at connect on the reactor); the
 * qpair uses it on its own thread in between. The bounce range is a mapping the kernel zeroes as it is touched.
 */
final class QpairMemory {
    private static final Logger LOG = LoggerFactory.getLogger(QpairMemory.class);
    private final RdmaDomain domain;
    private final NativeArena arena = new NativeArena();
    final MemorySegment local;
    final MemorySegment bounce;
    final MemoryRegion localRegion;
    final MemoryRegion bounceRegion;

    private QpairMemory(RdmaDomain domain, long localBytes, long bounceBytes) {
        this.domain = domain;
        try {
            local = arena.allocate(localBytes, 64);
            bounce = arena.map(bounceBytes, PageRuns.PAGE, false);
            ProtectionDomain pd = domain.pd();
            localRegion = pd.register(local, RdmaAbi.IBV_ACCESS_LOCAL_WRITE);
            try {
                bounceRegion = pd.register(bounce, RdmaAbi.IBV_ACCESS_LOCAL_WRITE | RdmaAbi.IBV_ACCESS_REMOTE_READ
                        | RdmaAbi.IBV_ACCESS_REMOTE_WRITE);
            } catch (RuntimeException e) {
                localRegion.close();
                throw e;
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /** Allocates and registers in {@code domain}; on the worker only. */
    static QpairMemory prepare(RdmaDomain domain, long localBytes, long bounceBytes) {
        return new QpairMemory(domain, localBytes, bounceBytes);
    }

    RdmaDomain domain() {
        return domain;
    }

    long byteSize() {
        return local.byteSize() + bounce.byteSize();
    }

    /**
     * Deregisters and frees it on the worker, queued before the domain's own close can be (call before giving the
     * domain back); no queue pair may use it any more.
     */
    void release() {
        RdmaDomains.execute(byteSize(), () -> {
            try {
                localRegion.close();
                bounceRegion.close();
            } catch (RdmaException e) { // still registered: the device may reach it, so it stays allocated
                LOG.warn("nvme rdma: deregistering a qpair's memory failed, {} bytes left allocated: {}", byteSize(),
                        e.getMessage());
                return;
            }
            arena.close();
        });
    }
}
