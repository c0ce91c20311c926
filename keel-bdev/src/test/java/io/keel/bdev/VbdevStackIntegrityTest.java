package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every virtual bdev keeps data intact with three threads writing and reading through it at once. */
class VbdevStackIntegrityTest {
    @TempDir
    Path dir;

    @Test
    void passthruOverErrorOverDelayOverMalloc() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 3000));
            t.rpc("bdev_delay_create", Map.of("name", "D0", "base_bdev_name", "M0", "avg_read_latency", 20,
                    "p99_read_latency", 200, "avg_write_latency", 20, "p99_write_latency", 200));
            t.rpc("bdev_error_create", Map.of("base_name", "D0"));
            t.rpc("bdev_passthru_create", Map.of("name", "P0", "base_bdev_name", "EE_D0"));
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "P0", 0, 1000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "P0", 1000, 1000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "P0", 2000, 1000, 8, true).start(t.layer()));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(1000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            assertThat(t.rpc("framework_get_config", Map.of("name", "bdev")).findValuesAsText("method"))
                    .containsSubsequence("bdev_malloc_create", "bdev_error_create", "bdev_delay_create",
                            "bdev_passthru_create");
            // deleting the bottom of the stack takes the whole stack down, top first
            assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "M0")).asBoolean()).isTrue();
            assertThat(t.rpc("bdev_get_bdevs", null)).isEmpty();
        }
    }
}
