package io.keel.nvmf.transport;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.ListenAddress;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * One transport of the target (TCP, RDMA), owned by the application thread: its listeners and its part of
 * each poll group. What does not depend on the transport — controllers, their qpairs, keep-alive, namespace changes
 * — is the {@link QpairRegistry}'s, which the transport's qpairs report to.
 */
public interface Transport {
    /** SPDK's trtype: "TCP", "RDMA". */
    String trtype();

    TransportOptions options();

    /** Makes the transport's poll groups (application thread). */
    void start();

    /** Closes the listeners and every qpair, then ends the poll groups; {@code done} on the application thread. */
    void stop(Runnable done);

    /** Starts listening on {@code a} (shared by the subsystems that use it). */
    void listen(ListenAddress a) throws IOException;

    /** One user of {@code a} is gone; the listener closes with the last one. */
    void stopListening(ListenAddress a);

    /**
     * For nvmf_get_stats: one entry per poll group of this transport, in order, gathered by messages to the groups
     * (rule R1); {@code done} on the application thread.
     */
    void stats(Consumer<List<PollGroupStats>> done);

    /**
     * One poll group's statistics for one transport: SPDK's per-group counters and the transport's entry of the
     * group's "transports" array ({@code trtype} and its fields).
     */
    record PollGroupStats(String name, long adminQpairs, long ioQpairs, int currentAdminQpairs, int currentIoQpairs,
            int currentUnassociatedQpairs, long pendingBdevIo, long completedNvmeIo, ObjectNode transport) {
    }
}
