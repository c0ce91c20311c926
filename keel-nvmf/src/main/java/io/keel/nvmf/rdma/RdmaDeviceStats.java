package io.keel.nvmf.rdma;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;

/**
 * SPDK's per-device counters of one RDMA poll group ({@code nvmf_get_stats}: an entry of the transport's
 * "devices"), all cumulative. Written by the group's thread; {@link #copy} is the snapshot sent to the application
 * thread.
 */
final class RdmaDeviceStats {
    final String name;
    long polls;
    long idlePolls;
    long completions;
    long requests;
    /** Nanoseconds from receiving commands to their responses' completions, summed (SPDK counts ticks). */
    long requestLatency;
    long pendingFreeRequest;
    long pendingRdmaRead;
    long pendingRdmaWrite;
    long pendingRdmaSend;
    long totalSendWrs;
    long sendDoorbellUpdates;
    long totalRecvWrs;
    long recvDoorbellUpdates;

    RdmaDeviceStats(String name) {
        this.name = name;
    }

    RdmaDeviceStats copy() {
        RdmaDeviceStats c = new RdmaDeviceStats(name);
        c.polls = polls;
        c.idlePolls = idlePolls;
        c.completions = completions;
        c.requests = requests;
        c.requestLatency = requestLatency;
        c.pendingFreeRequest = pendingFreeRequest;
        c.pendingRdmaRead = pendingRdmaRead;
        c.pendingRdmaWrite = pendingRdmaWrite;
        c.pendingRdmaSend = pendingRdmaSend;
        c.totalSendWrs = totalSendWrs;
        c.sendDoorbellUpdates = sendDoorbellUpdates;
        c.totalRecvWrs = totalRecvWrs;
        c.recvDoorbellUpdates = recvDoorbellUpdates;
        return c;
    }

    /** The entry as SPDK writes it ({@code nvmf_rdma_poll_group_dump_stat}). */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("name", name);
        o.put("polls", polls);
        o.put("idle_polls", idlePolls);
        o.put("completions", completions);
        o.put("requests", requests);
        o.put("request_latency", requestLatency);
        o.put("pending_free_request", pendingFreeRequest);
        o.put("pending_rdma_read", pendingRdmaRead);
        o.put("pending_rdma_write", pendingRdmaWrite);
        o.put("pending_rdma_send", pendingRdmaSend);
        o.put("total_send_wrs", totalSendWrs);
        o.put("send_doorbell_updates", sendDoorbellUpdates);
        o.put("total_recv_wrs", totalRecvWrs);
        o.put("recv_doorbell_updates", recvDoorbellUpdates);
        return o;
    }
}
