package io.keel.nvmf.rdma;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.nvmf.transport.Transport;
import java.util.List;

/**
 * A snapshot of one RDMA poll group for {@code nvmf_get_stats}, taken on its thread: SPDK's per-group fields, and
 * the RDMA transport's entry as SPDK writes it ({@code pending_data_buffer} and per device its counters) with
 * Keel's pool gauges after them (scenario S3: how many wait now, how much of each pool is out; the shared receive
 * queues' buffers and how many are posted, all of them once no qpair holds one).
 *
 * @param pendingDataBuffer   times a request had to wait for a data buffer or data work request (cumulative)
 * @param waitingForData      requests waiting for one now
 * @param dataBuffersInUse    data buffers held now, out of {@code dataBufferLimit}
 * @param dataWrsInUse        data work requests held now, out of {@code dataWrLimit}
 * @param sharedReceiveBuffers       capsule buffers of the group's shared receive queues (all devices)
 * @param sharedReceiveBuffersPosted of those, posted now (the rest hold capsules or wait to be posted)
 * @param devices             per device, SPDK's counters
 */
record RdmaPollGroupStats(String name, long adminQpairs, long ioQpairs, int currentAdminQpairs, int currentIoQpairs,
        int currentUnassociatedQpairs, long pendingBdevIo, long completedNvmeIo, long pendingDataBuffer,
        int waitingForData, int dataBuffersInUse, int dataBufferLimit, int dataWrsInUse, int dataWrLimit,
        int sharedReceiveBuffers, int sharedReceiveBuffersPosted, List<RdmaDeviceStats> devices) {

    static RdmaPollGroupStats of(RdmaPollGroup g) {
        int admin = 0;
        int io = 0;
        int unassociated = 0;
        long pendingBdevIo = 0;
        long completed = g.completedNvmeIo;
        for (RdmaQpair q : g.qpairs()) {
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
            pendingBdevIo += q.waitingForBdevIo();
            completed += q.completedIo();
        }
        int srqBuffers = 0;
        int srqPosted = 0;
        for (RdmaPoller p : g.pollers()) {
            if (p.sharedReceives != null) {
                srqBuffers += p.sharedReceives.count();
                srqPosted += p.sharedReceives.posted();
            }
        }
        return new RdmaPollGroupStats(g.name(), g.adminQpairs, g.ioQpairs, admin, io, unassociated, pendingBdevIo,
                completed, g.pendingDataBuffer(), g.waitingForData(), g.buffersInUse(), g.bufferLimit(),
                g.workRequestsInUse(), g.workRequestLimit(), srqBuffers, srqPosted,
                g.pollers().stream().map(p -> p.stats.copy()).toList());
    }

    Transport.PollGroupStats asPollGroupStats() {
        ObjectNode rdma = Json.object();
        rdma.put("trtype", "RDMA");
        rdma.put("pending_data_buffer", pendingDataBuffer);
        ArrayNode list = rdma.putArray("devices");
        devices.forEach(d -> list.add(d.describe()));
        // Keel's own gauges (DESIGN S3)
        rdma.put("requests_waiting_for_data", waitingForData);
        rdma.put("data_buffers_in_use", dataBuffersInUse);
        rdma.put("data_buffer_pool_size", dataBufferLimit);
        rdma.put("data_wrs_in_use", dataWrsInUse);
        rdma.put("data_wr_pool_size", dataWrLimit);
        rdma.put("shared_receive_buffers", sharedReceiveBuffers);
        rdma.put("shared_receive_buffers_posted", sharedReceiveBuffersPosted);
        return new Transport.PollGroupStats(name, adminQpairs, ioQpairs, currentAdminQpairs, currentIoQpairs,
                currentUnassociatedQpairs, pendingBdevIo, completedNvmeIo, rdma);
    }
}
