package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layer's and the malloc/null modules' methods, with SPDK's names, shapes and errors. */
class BdevRpcTest {
    @TempDir
    Path dir;

    @Test
    void createDescribeResizeSaveAndDelete() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            assertThat(t.rpc("bdev_malloc_create", Map.of("block_size", 4096, "num_blocks", 16)).asText()).isEqualTo("Malloc0");
            assertThat(t.rpc("bdev_malloc_create", Map.of("block_size", 512, "num_blocks", 16,
                    "uuid", "4231d9f4-b750-416f-b4df-1d1b8009f21b")).asText()).isEqualTo("Malloc1");
            assertThat(t.rpc("bdev_null_create", Map.of("name", "Null0", "block_size", 4096, "num_blocks", 256)).asText())
                    .isEqualTo("Null0");

            JsonNode m1 = t.rpc("bdev_get_bdevs", Map.of("name", "4231d9f4-b750-416f-b4df-1d1b8009f21b")).get(0);
            assertThat(m1.get("name").asText()).as("found by its UUID alias").isEqualTo("Malloc1");
            assertThat(m1.get("product_name").asText()).isEqualTo("Malloc disk");
            assertThat(m1.get("supported_io_types").get("unmap").asBoolean()).isTrue();
            assertThat(m1.get("supported_io_types").get("nvme_admin").asBoolean()).isFalse();
            assertThat(m1.get("claimed").asBoolean()).isFalse();
            JsonNode n0 = t.rpc("bdev_get_bdevs", Map.of("name", "Null0")).get(0);
            assertThat(n0.get("supported_io_types").get("unmap").asBoolean()).isFalse();

            assertThat(t.rpc("bdev_null_resize", Map.of("name", "Null0", "new_size", 2)).asBoolean()).isTrue();
            assertThat(t.rpc("bdev_get_bdevs", Map.of("name", "Null0")).get(0).get("num_blocks").asLong()).isEqualTo(512);

            List<String> methods = t.rpc("framework_get_config", Map.of("name", "bdev")).findValuesAsText("method");
            assertThat(methods).containsExactly("bdev_set_options", "bdev_raid_set_options", "bdev_malloc_create", "bdev_malloc_create",
                    "bdev_null_create", "bdev_wait_for_examine");

            assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
            assertThat(t.rpc("bdev_get_bdevs", null).findValuesAsText("name")).containsExactly("Malloc1", "Null0");
            assertThat(t.rpc("bdev_wait_for_examine", null).asBoolean()).isTrue();
        }
    }

    @Test
    void errorsAsSpdkGivesThem() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 16));
            assertThatThrownBy(() -> t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 16)))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-17));
            assertThatThrownBy(() -> t.rpc("bdev_malloc_delete", Map.of("name", "nope")))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-19))
                    .hasMessageContaining("No such device");
            assertThatThrownBy(() -> t.rpc("bdev_null_delete", Map.of("name", "M0")))
                    .as("a null delete of a malloc bdev").hasMessageContaining("No such device");
            assertThatThrownBy(() -> t.rpc("bdev_malloc_create", Map.of("block_size", 512)))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-32602))
                    .hasMessageContaining("num_blocks");
            assertThatThrownBy(() -> t.rpc("bdev_malloc_create", Map.of("block_size", 500, "num_blocks", 8)))
                    .hasMessageContaining("block size");
            assertThatThrownBy(() -> t.rpc("bdev_null_create", Map.of("name", "N", "block_size", 512, "num_blocks", 8,
                    "blocksize", 1))).hasMessageContaining("blocksize");
            assertThatThrownBy(() -> t.rpc("bdev_get_bdevs", Map.of("name", "nope")))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-19));
            assertThatThrownBy(() -> t.rpc("bdev_get_iostat", Map.of("reset_mode", "sometimes")))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-32602));
            assertThatThrownBy(() -> t.rpc("bdev_set_options", Map.of("bdev_io_pool_size", 4)))
                    .as("pool options only before init").satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-1));
        }
    }

    @Test
    void getBdevsWaitsForABdevThatAppearsWithinTheTimeout() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            var later = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                t.rpc("bdev_null_create", Map.of("name", "Late", "block_size", 512, "num_blocks", 8));
            });
            assertThat(t.rpc("bdev_get_bdevs", Map.of("name", "Late", "timeout", 5000)).get(0).get("name").asText())
                    .isEqualTo("Late");
            later.join();
        }
    }
}
