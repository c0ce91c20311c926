package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rule R6: a pool far smaller than the queue depth makes callers wait, never fail or hang. */
class BdevPoolExhaustionTest {
    @TempDir
    Path dir;

    @Test
    void eightBdevIosServeThreeThreadsAtQueueDepthSixtyFour() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir,
                Map.of("bdev_set_options", Map.of("bdev_io_pool_size", 8, "bdev_io_cache_size", 2)))) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 3000));
            assertThat(t.layer().poolSize()).isEqualTo(8);
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "M0", 0, 1000, 64, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "M0", 1000, 1000, 64, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "M0", 2000, 1000, 64, true).start(t.layer()));
            long waited = 0;
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.written()).isEqualTo(1000);
                assertThat(res.read()).isEqualTo(1000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
                waited += res.enomem();
            }
            assertThat(waited).as("the pool ran dry and callers waited").isPositive();
            var pool = t.rpc("keel_bdev_get_io_pool", null);
            assertThat(pool.get("bdev_io_pool_size").asInt()).isEqualTo(8);
            assertThat(pool.get("bdev_io_waits_total").asLong()).as("the waits are visible in stats").isPositive();
            // every bdev_io is back once the threads let go of their channels
            await().atMost(Duration.ofSeconds(10)).until(() -> t.layer().poolAvailable() == 8);
        }
    }

    @Test
    void aStackOfVirtualBdevsKeepsGoingWhenParentsHoldEveryPooledIo() throws Exception {
        // passthru over error over malloc: each I/O needs three bdev_ios at once, the pool has four
        try (BdevTestApp t = BdevTestApp.start(dir,
                Map.of("bdev_set_options", Map.of("bdev_io_pool_size", 4, "bdev_io_cache_size", 1)))) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 3000));
            t.rpc("bdev_error_create", Map.of("base_name", "M0"));
            t.rpc("bdev_passthru_create", Map.of("name", "P0", "base_bdev_name", "EE_M0"));
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "P0", 0, 1000, 32, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "P0", 1000, 1000, 32, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "P0", 2000, 1000, 32, true).start(t.layer()));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(1000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            var pool = t.rpc("keel_bdev_get_io_pool", null);
            assertThat(pool.get("bdev_io_child_overflows_total").asLong())
                    .as("children got bdev_ios beyond the bound instead of deadlocking").isPositive();
            await().atMost(Duration.ofSeconds(10)).until(() -> t.layer().poolAvailable() == 4);
        }
    }
}
