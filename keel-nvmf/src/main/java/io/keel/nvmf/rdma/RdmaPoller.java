package io.keel.nvmf.rdma;

import io.keel.rdma.CompletionChannel;
import io.keel.rdma.CompletionQueue;
import io.keel.rdma.WorkCompletions;

/**
 * One poll group's part of one device (SPDK's {@code spdk_nvmf_rdma_poller}): the completion queue every qpair of
 * the group on that device completes into, its completion channel (watched in interrupt mode), the reusable
 * completions array and the device's counters. Made on the group's thread with the group's first qpair on the
 * device; closed there when the group stops, after its qpairs.
 */
final class RdmaPoller implements AutoCloseable {
    /** Completions taken per poll call. */
    static final int BATCH = 32;

    final RdmaDevice device;
    final CompletionChannel channel;
    final CompletionQueue cq;
    final WorkCompletions completions = new WorkCompletions(BATCH);
    final RdmaDeviceStats stats;
    /** Completion queue entries the qpairs on it may need together (each asks for its own at accept). */
    int cqeReserved;

    RdmaPoller(RdmaDevice device, int entries) {
        this.device = device;
        this.channel = device.context().createCompletionChannel();
        try {
            this.cq = device.context().createCompletionQueue(entries, channel);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
        this.stats = new RdmaDeviceStats(device.name());
    }

    @Override
    public void close() {
        cq.close();
        channel.close();
        completions.close();
    }
}
