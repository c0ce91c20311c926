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

/** Deleting a bdev that three threads are using: each is told, drains, lets go; nothing leaks. */
class BdevHotRemoveTest {
    @TempDir
    Path dir;

    @Test
    void deleteWithIoInFlightOnThreeThreads() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            // measured before M0 exists: the raid module's examine reads M0 for a superblock on the app thread
            int poolFull = t.layer().poolAvailable();
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 3000));
            List<IoLoop> loops = List.of(
                    new IoLoop(t.thread("w0", 0), "M0", 0, 1000, 32, false).untilRemoved(),
                    new IoLoop(t.thread("w1", 1), "M0", 1000, 1000, 32, false).untilRemoved(),
                    new IoLoop(t.thread("w2", 1), "M0", 2000, 1000, 32, false).untilRemoved());
            List<CompletableFuture<IoLoop.Result>> runs = loops.stream().map(l -> l.start(t.layer())).toList();
            for (IoLoop l : loops) {
                l.running().get(10, TimeUnit.SECONDS); // every thread has the bdev open and I/O in flight
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> t.rpc("bdev_get_iostat", null).get("bdevs").get(0)
                    .get("num_write_ops").asLong() > 1000);

            assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "M0")).asBoolean()).isTrue();

            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(30, TimeUnit.SECONDS);
                assertThat(res.removed()).as("each descriptor was told REMOVE").isTrue();
                assertThat(res.failed()).isZero();
            }
            assertThat(t.layer().get("M0")).isNull();
            assertThat(t.rpc("bdev_get_bdevs", null)).isEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> t.layer().poolAvailable() == poolFull);
        }
    }

    @Test
    void deleteTwiceWhileRemovingAndAfterIsDefined() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_null_create", Map.of("name", "N0", "block_size", 512, "num_blocks", 1024));
            Bdev b = t.layer().get("N0");
            CompletableFuture<String> first = new CompletableFuture<>();
            CompletableFuture<String> second = new CompletableFuture<>();
            t.app.onAppThread(() -> {
                t.layer().unregister(b, () -> first.complete("first"));
                t.layer().unregister(b, () -> second.complete("second"));
            });
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("first");
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("second");
            CompletableFuture<String> after = new CompletableFuture<>();
            t.app.onAppThread(() -> t.layer().unregister(b, () -> after.complete("after")));
            assertThat(after.get(10, TimeUnit.SECONDS)).isEqualTo("after");
            assertThat(b.state()).isEqualTo(Bdev.State.REMOVED);
        }
    }
}
