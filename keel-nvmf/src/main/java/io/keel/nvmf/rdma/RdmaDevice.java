package io.keel.nvmf.rdma;

import io.keel.core.iobuf.IoBuf;
import io.keel.rdma.AsyncEvents;
import io.keel.rdma.DeviceAttributes;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.ProtectionDomain;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.VerbsContext;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * One RDMA device as the transport uses it: its limits ({@code ibv_query_device}), its protection domain and iobuf's
 * memory registered in it once, so any data buffer of any poll group moves with its region's key. Made and closed by
 * the transport on the application thread (after every poll group let go of it); the poll groups read it.
 */
final class RdmaDevice implements AutoCloseable {
    private final VerbsContext context;
    private final String name;
    private final DeviceAttributes attributes;
    private final ProtectionDomain pd;
    private final MemoryRegion[] iobufRegions;
    private final AsyncEvents asyncEvents;

    private RdmaDevice(VerbsContext context, DeviceAttributes attributes, ProtectionDomain pd,
            MemoryRegion[] iobufRegions, AsyncEvents asyncEvents) {
        this.context = context;
        this.asyncEvents = asyncEvents;
        this.name = context.deviceName();
        this.attributes = attributes;
        this.pd = pd;
        this.iobufRegions = iobufRegions;
    }

    /**
     * Reads the device's limits, allocates its protection domain, registers iobuf's regions in it and opens its
     * async event reader.
     */
    static RdmaDevice open(VerbsContext context, IoBuf iobuf) {
        DeviceAttributes attributes = context.queryDevice();
        ProtectionDomain pd = context.allocateProtectionDomain();
        List<MemorySegment> regions = iobuf.regions();
        MemoryRegion[] registered = new MemoryRegion[regions.size()];
        AsyncEvents events = null;
        try {
            for (int i = 0; i < registered.length; i++) {
                registered[i] = pd.register(regions.get(i), RdmaAbi.IBV_ACCESS_LOCAL_WRITE);
            }
            events = context.asyncEvents();
        } catch (RuntimeException e) {
            for (MemoryRegion r : registered) {
                if (r != null) {
                    r.close();
                }
            }
            pd.close();
            throw e;
        }
        return new RdmaDevice(context, attributes, pd, registered, events);
    }

    VerbsContext context() {
        return context;
    }

    String name() {
        return name;
    }

    DeviceAttributes attributes() {
        return attributes;
    }

    ProtectionDomain pd() {
        return pd;
    }

    /** Its async events, read on the application thread. */
    AsyncEvents asyncEvents() {
        return asyncEvents;
    }

    /** The local key of the iobuf region that holds {@code address}; -1 if none does. */
    int iobufKey(long address) {
        for (MemoryRegion r : iobufRegions) {
            long base = r.address();
            if (address >= base && address < base + r.memory().byteSize()) {
                return r.lkey();
            }
        }
        return -1;
    }

    @Override
    public void close() {
        asyncEvents.close();
        for (MemoryRegion r : iobufRegions) {
            r.close();
        }
        pd.close();
    }
}
