package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.rdma.Rdma;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nvmf_create_transport -t RDMA} as an operator meets it: where RDMA is not usable the create fails with the
 * sentence that says why (and TCP keeps working); where it is, nvmf_get_transports shows SPDK's RDMA options and
 * nvmf_get_stats an RDMA entry per poll group in SPDK's shape.
 */
class RdmaTransportRpcTest {
    @TempDir
    Path dir;

    @Test
    void createFailsSayingWhyWhereRdmaIsNotUsableElseShowsSpdksOptionsAndStats() throws Exception {
        Rdma.Availability rdma = Rdma.availability();
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            if (!rdma.usable()) {
                assertThatThrownBy(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "RDMA")))
                        .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-32603))
                        .hasMessageContaining("Transport type 'RDMA' create failed: " + rdma.reason());
                assertThat(t.rpc("nvmf_create_transport", Map.of("trtype", "TCP")).asBoolean())
                        .as("everything else keeps working").isTrue();
                assertThat(t.rpc("nvmf_get_transports", null).findValuesAsText("trtype")).containsExactly("TCP");
                return;
            }
            t.rpc("nvmf_create_transport", Map.of("trtype", "rdma", "num_shared_buffers", 64, "no_wr_batching",
                    true));
            JsonNode o = t.rpc("nvmf_get_transports", Map.of("trtype", "RDMA")).get(0);
            assertThat(o.get("trtype").asText()).isEqualTo("RDMA");
            assertThat(o.get("max_srq_depth").asInt()).isEqualTo(4096);
            assertThat(o.get("acceptor_backlog").asInt()).isEqualTo(100);
            assertThat(o.get("no_wr_batching").asBoolean()).isTrue();
            assertThat(o.get("data_wr_pool_size").asInt()).isEqualTo(4095);
            assertThat(o.get("num_shared_buffers").asInt()).isEqualTo(64);
            assertThat(o.has("c2h_success")).as("a TCP option").isFalse();
            JsonNode rdmaStats = t.rpc("nvmf_get_stats", null).get("poll_groups").get(0).get("transports").get(0);
            assertThat(rdmaStats.get("trtype").asText()).isEqualTo("RDMA");
            assertThat(rdmaStats.has("pending_data_buffer")).isTrue();
            assertThat(rdmaStats.get("devices").isArray()).isTrue();
        }
    }
}
