package io.keel.nvme.host.rdma;

import io.keel.core.mem.DmaMemory;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.ProtectionDomain;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RdmaException;
import io.keel.rdma.VerbsContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RDMA device's protection domain as the host uses it, shared by every thread's qpairs on the device while any
 * holds it ({@link RdmaDomains} counts them; SPDK reference-counts its protection domains and memory maps the same
 * way), closed when the last lets go: what is registered in it is registered once. It registers the process's {@link DmaMemory} (iobuf's regions, buffers modules
 * registered) with remote read and write access and keeps a {@link RegistrationMap} of it, so a command whose
 * data lies in such memory names it in its keyed SGL instead of copying through the qpair's bounce range.
 *
 * <p>{@code ibv_reg_mr} blocks (pinning the pages takes ~100 ms for iobuf under TCG, seconds when the guest is
 * loaded), so every registration and deregistration runs on the {@link RdmaDomains} worker, never on a reactor
 * (rule R3): the domain is opened there, and each range is registered there after it, I/O in it bounced meanwhile. A range unregistered leaves the
 * map at once, on the unregistering thread, before its memory may be freed (the pages stay pinned by the region
 * until the worker deregisters it after that). The lock guards only the swap of the map; no call is made under it.
 */
final class RdmaDomain implements DmaMemory.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDomain.class);
    private static final int ACCESS = RdmaAbi.IBV_ACCESS_LOCAL_WRITE | RdmaAbi.IBV_ACCESS_REMOTE_READ
            | RdmaAbi.IBV_ACCESS_REMOTE_WRITE;

    private final VerbsContext context;
    private final String name;
    private final ProtectionDomain pd;
    /** Replaced, never changed, under this object's lock; read by the data path without one. */
    private volatile RegistrationMap map = RegistrationMap.EMPTY;
    /** Guarded by this object's lock. */
    private final Map<DmaMemory.Range, MemoryRegion> regions = new HashMap<>();
    /** Guarded by this object's lock: set by {@link #close}, after which nothing is registered. */
    private boolean closed;

    private RdmaDomain(VerbsContext context, ProtectionDomain pd) {
        this.context = context;
        this.name = context.deviceName();
        this.pd = pd;
    }

    /**
     * Allocates the protection domain of {@code context} and queues the registration of the {@link DmaMemory} there
     * is now, after which the domain can be used (I/O in memory not yet registered is copied). On the worker only.
     */
    static RdmaDomain open(VerbsContext context) {
        RdmaDomain d = new RdmaDomain(context, context.allocateProtectionDomain());
        List<DmaMemory.Range> now = DmaMemory.subscribe(d);
        now.forEach(d::added);
        LOG.info("nvme rdma: {}: protection domain allocated; registering {} DMA memory range(s)", d.name, now.size());
        return d;
    }

    /** The device it belongs to (what {@link RdmaDomains} holds it by). */
    VerbsContext context() {
        return context;
    }

    ProtectionDomain pd() {
        return pd;
    }

    /** What is registered now, for looking data up (any thread, no lock). */
    RegistrationMap map() {
        return map;
    }

    @Override
    public void added(DmaMemory.Range range) {
        RdmaDomains.execute(range.byteSize(), () -> registerRange(range));
    }

    /** {@code range} leaves the map now; its region is deregistered on the worker. */
    @Override
    public void removed(DmaMemory.Range range) {
        MemoryRegion mr;
        synchronized (this) {
            map = map.without(range);
            mr = regions.remove(range);
        }
        if (mr != null) {
            RdmaDomains.execute(range.byteSize(), () -> deregister(mr));
        }
    }

    /**
     * On the worker: registers {@code range} and publishes its keys, unless it was unregistered meanwhile (checked
     * under the lock {@link #removed} takes, so a range never enters the map after it left).
     */
    private void registerRange(DmaMemory.Range range) {
        synchronized (this) {
            if (closed || !range.active()) {
                return;
            }
        }
        long t0 = System.nanoTime();
        MemoryRegion mr;
        try {
            mr = pd.register(range.memory(), ACCESS);
        } catch (RdmaException e) {
            LOG.warn("nvme rdma: {}: registering {} failed, I/O in it is copied: {}", name, range, e.getMessage());
            return;
        }
        boolean published;
        synchronized (this) {
            published = !closed && range.active();
            if (published) {
                regions.put(range, mr);
                map = map.with(range.address(), range.byteSize(), mr.lkey(), mr.rkey(), range);
            }
        }
        if (!published) {
            deregister(mr);
            return;
        }
        LOG.info("nvme rdma: {}: registered {} in {} ms", name, range, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * On the worker, once no qpair holds the domain and every qpair's own regions in it are deregistered (queued
     * before this, see {@link RdmaDomains#release}): stops following {@link DmaMemory}, deregisters what it
     * registered and frees the protection domain.
     */
    void close() {
        DmaMemory.unsubscribe(this);
        List<MemoryRegion> left;
        synchronized (this) {
            closed = true;
            map = RegistrationMap.EMPTY;
            left = List.copyOf(regions.values());
            regions.clear();
        }
        left.forEach(this::deregister);
        try {
            pd.close();
        } catch (RdmaException e) {
            LOG.warn("nvme rdma: {}: freeing the protection domain failed: {}", name, e.getMessage());
            return;
        }
        LOG.info("nvme rdma: {}: no qpair uses the device any more; {} region(s) deregistered, protection domain freed",
                name, left.size());
    }

    private void deregister(MemoryRegion mr) {
        try {
            mr.close();
        } catch (RdmaException e) {
            LOG.warn("nvme rdma: {}: deregistering 0x{} failed: {}", name, Long.toHexString(mr.address()),
                    e.getMessage());
        }
    }
}
