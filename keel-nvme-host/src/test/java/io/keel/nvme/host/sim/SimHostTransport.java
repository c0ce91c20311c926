package io.keel.nvme.host.sim;

import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.QpairConfig;
import io.keel.nvme.host.TransportId;

/**
 * Queue pairs to a {@link SimController} for the deterministic simulation. It answers to trtype TCP, so that a
 * module given it in place of the real TCP transport attaches to the simulated controller unchanged.
 */
public final class SimHostTransport implements HostTransport {
    private final SimController ctrl;

    public SimHostTransport(SimController ctrl) {
        this.ctrl = ctrl;
    }

    @Override
    public String name() {
        return "TCP";
    }

    @Override
    public HostQpair newQpair(HostPollGroup group, TransportId trid, QpairConfig config, int sendBufferBytes,
            HostQpair.Listener listener) {
        return new SimHostQpair(group, config, listener, ctrl);
    }
}
