package io.keel.nvmf.tcp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.nvmf.transport.Transport;

/**
 * A snapshot of one poll group for {@code nvmf_get_stats}: SPDK's per-poll-group fields and, for the TCP
 * transport's entry, Keel's own pool counters (SPDK's TCP transport reports none, so a run dry of buffers is
 * invisible there; scenario S3).
 *
 * @param pendingDataBuffer requests waiting for a data buffer now
 * @param requestsInUse     transport requests not in their qpair's pool (receiving, waiting, executing)
 * @param dataBuffersInUse  data buffers this group holds now, out of {@code dataBufferLimit}
 * @param dataBufferWaits   times a request found no data buffer and waited
 * @param socketReads       reads that brought bytes on this group's sockets (how well receiving batches; the
 *                          empty reads of a queue read every turn are polling, not counted)
 * @param socketWrites      (gathering) write calls on this group's sockets (how well sending batches)
 * @param queueMemoryInUse  bytes of request tables and send buffers this group's connections hold now
 * @param queueMemoryKept   bytes of them kept for the next connections (free to reuse)
 * @param queueMemoryLimit  the bound on both together ({@code keel_queue_memory_mb} split over the groups)
 * @param queueMemoryPeak   the most {@code queueMemoryInUse} has been
 * @param queueMemoryRefusals connections or Connects refused because the bound left no room
 * @param queueMemoryAllocations blocks allocated rather than reused (flat once connection churn is warm)
 */
public record TcpPollGroupStats(String name, long adminQpairs, long ioQpairs, int currentAdminQpairs,
        int currentIoQpairs, int currentUnassociatedQpairs, long pendingBdevIo, long completedNvmeIo,
        int pendingDataBuffer, int requestsInUse, int dataBuffersInUse, int dataBufferLimit,
        int peakDataBuffersInUse, long dataBufferWaits, long socketReads, long socketWrites, long queueMemoryInUse,
        long queueMemoryKept, long queueMemoryLimit, long queueMemoryPeak, long queueMemoryRefusals,
        long queueMemoryAllocations) {

    static TcpPollGroupStats of(TcpPollGroup g) {
        int admin = 0;
        int io = 0;
        int unassociated = 0;
        int pendingBuffers = 0;
        int requests = 0;
        long pendingBdevIo = 0;
        long completed = g.completedNvmeIo;
        for (TcpQpair q : g.qpairs()) {
            switch (q.state()) {
                case ENABLED -> {
                    if (q.qid() == 0) {
                        admin++;
                    } else {
                        io++;
                    }
                }
                case AWAITING_CONNECT, CONNECTING -> unassociated++;
                default -> { }
            }
            pendingBuffers += q.pendingBuffers();
            requests += q.requestsInUse();
            pendingBdevIo += q.waitingForBdevIo();
            completed += q.completedIo();
        }
        return new TcpPollGroupStats(g.name(), g.adminQpairs, g.ioQpairs, admin, io, unassociated, pendingBdevIo,
                completed, pendingBuffers, requests, g.buffersInUse(), g.bufferLimit(), g.peakBuffersInUse,
                g.bufferWaits, g.socketReads, g.socketWrites, g.memory().inUse(), g.memory().kept(),
                g.memory().limit(), g.memory().peakInUse(), g.memory().refusals(),
                g.memory().allocations());
    }

    /** As nvmf_get_stats reports it: the group's SPDK counters, and the TCP transport's entry with Keel's. */
    Transport.PollGroupStats asPollGroupStats() {
        ObjectNode tcp = Json.object();
        tcp.put("trtype", "TCP");
        // Keel's own counters (SPDK's TCP transport reports none; DESIGN S3)
        tcp.put("pending_data_buffer", pendingDataBuffer);
        tcp.put("requests_in_use", requestsInUse);
        tcp.put("data_buffers_in_use", dataBuffersInUse);
        tcp.put("data_buffer_pool_size", dataBufferLimit);
        tcp.put("peak_data_buffers_in_use", peakDataBuffersInUse);
        tcp.put("data_buffer_waits", dataBufferWaits);
        tcp.put("socket_reads", socketReads);
        tcp.put("socket_writes", socketWrites);
        tcp.put("queue_memory_in_use", queueMemoryInUse);
        tcp.put("queue_memory_kept", queueMemoryKept);
        tcp.put("queue_memory_limit", queueMemoryLimit);
        tcp.put("peak_queue_memory_in_use", queueMemoryPeak);
        tcp.put("queue_memory_refusals", queueMemoryRefusals);
        tcp.put("queue_memory_allocations", queueMemoryAllocations);
        return new Transport.PollGroupStats(name, adminQpairs, ioQpairs, currentAdminQpairs, currentIoQpairs,
                currentUnassociatedQpairs, pendingBdevIo, completedNvmeIo, tcp);
    }
}
