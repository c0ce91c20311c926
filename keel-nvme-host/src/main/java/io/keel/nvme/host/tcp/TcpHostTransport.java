package io.keel.nvme.host.tcp;

import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.QpairConfig;
import io.keel.nvme.host.TransportId;

/** NVMe/TCP for the host. */
public final class TcpHostTransport implements HostTransport {
    public static final TcpHostTransport INSTANCE = new TcpHostTransport();

    private TcpHostTransport() {
    }

    @Override
    public String name() {
        return "TCP";
    }

    @Override
    public HostQpair newQpair(HostPollGroup group, TransportId trid, QpairConfig config, int sendBufferBytes,
            HostQpair.Listener listener) {
        return new TcpHostQpair(group, trid.address(), config, sendBufferBytes, listener);
    }
}
