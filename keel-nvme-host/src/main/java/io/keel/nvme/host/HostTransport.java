package io.keel.nvme.host;

/**
 * A transport of the host (TCP, RDMA): makes queue pairs to a transport ID. The controller logic and
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

    /** Why this transport cannot be used in this process now, or null when it can (asked before an attach). */
    default String unavailable() {
        return null;
    }

    /** The largest data transfer of one command the transport takes (0: no limit of its own); I/O is split to it. */
    default long maxTransferBytes() {
        return 0;
    }
}
