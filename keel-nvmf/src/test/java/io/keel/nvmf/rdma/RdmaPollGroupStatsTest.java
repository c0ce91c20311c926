package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.nvmf.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RDMA entry of a poll group in nvmf_get_stats: SPDK's fields, in SPDK's order, then Keel's pool gauges. */
class RdmaPollGroupStatsTest {
    @Test
    void theTransportEntryHasSpdksRdmaFieldsPerDevice() {
        RdmaDeviceStats d = new RdmaDeviceStats("rxe0");
        d.polls = 10;
        d.idlePolls = 4;
        d.completions = 12;
        d.requests = 6;
        d.pendingRdmaRead = 2;
        d.totalSendWrs = 7;
        d.sendDoorbellUpdates = 3;
        RdmaDeviceStats copy = d.copy();
        d.polls = 99; // the snapshot does not move with the live counters
        Transport.PollGroupStats s = new RdmaPollGroupStats("nvmf_tgt_poll_group_000", 1, 2, 1, 2, 0, 0, 42, 5, 0,
                1, 2, 1, 2, 4096, 4090, List.of(copy)).asPollGroupStats();
        assertThat(s.name()).isEqualTo("nvmf_tgt_poll_group_000");
        assertThat(s.completedNvmeIo()).isEqualTo(42);
        ObjectNode t = s.transport();
        assertThat(fields(t)).containsExactly("trtype", "pending_data_buffer", "devices", "requests_waiting_for_data",
                "data_buffers_in_use", "data_buffer_pool_size", "data_wrs_in_use", "data_wr_pool_size",
                "shared_receive_buffers", "shared_receive_buffers_posted");
        assertThat(t.get("shared_receive_buffers_posted").asInt()).isEqualTo(4090);
        assertThat(t.get("trtype").asText()).isEqualTo("RDMA");
        assertThat(t.get("pending_data_buffer").asLong()).isEqualTo(5);
        JsonNode dev = t.get("devices").get(0);
        assertThat(fields(dev)).containsExactly("name", "polls", "idle_polls", "completions", "requests",
                "request_latency", "pending_free_request", "pending_rdma_read", "pending_rdma_write",
                "pending_rdma_send", "total_send_wrs", "send_doorbell_updates", "total_recv_wrs",
                "recv_doorbell_updates");
        assertThat(dev.get("name").asText()).isEqualTo("rxe0");
        assertThat(dev.get("polls").asLong()).isEqualTo(10);
        assertThat(dev.get("pending_rdma_read").asLong()).isEqualTo(2);
    }

    private static List<String> fields(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
