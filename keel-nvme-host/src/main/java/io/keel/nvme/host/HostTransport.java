package io.keel.nvme.host;

/**
 * A transport of the host (TCP now, RDMA next): makes queue pairs to a transport ID. The controller logic and
 * everything above it talk to {@link HostQpair} alone, so a new transport adds this and a qpair class.
 */
public interface HostTransport {
    /** SPDK's trtype, e.g. {@code TCP}. */
    String name();

    /**
     * A queue pair to {@code trid}, owned by {@code group}'s thread (call there), not yet connected;
     * {@code sendBufferBytes} sizes its output staging where the transport has one.
     */
    HostQpair newQpair(HostPollGroup group, TransportId trid, QpairConfig config, int sendBufferBytes,
            HostQpair.Listener listener);
}
