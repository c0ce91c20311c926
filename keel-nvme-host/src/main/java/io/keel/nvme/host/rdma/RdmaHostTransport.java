package io.keel.nvme.host.rdma;

import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.QpairConfig;
import io.keel.nvme.host.TransportId;
import io.keel.rdma.Rdma;

/**
 * NVMe-oF over RDMA for the host (rdma-core through keel-rdma): qpairs of {@link RdmaHostQpair}, each thread's
 * CM events, completion queues and protection domains in its {@link RdmaPollGroup}. Where RDMA is not usable
 * {@link #unavailable} says why, and nothing of it is touched.
 */
public final class RdmaHostTransport implements HostTransport {
    public static final String NAME = "RDMA";
    public static final RdmaHostTransport INSTANCE = new RdmaHostTransport();

    private RdmaHostTransport() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailable() {
        Rdma.Availability a = Rdma.availability();
        return a.usable() ? null : a.reason();
    }

    /** What one keyed SGL of the qpair's bounce memory holds at most. */
    @Override
    public long maxTransferBytes() {
        return RdmaHostQpair.MAX_TRANSFER;
    }

    @Override
    public HostQpair newQpair(HostPollGroup group, TransportId trid, QpairConfig config, int sendBufferBytes,
            HostQpair.Listener listener) {
        return new RdmaHostQpair(group, trid.address(), config, listener);
    }
}
