package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes and reads back patterns through the layer from three threads at once. */
class BdevDataIntegrityTest {
    @TempDir
    Path dir;

    @Test
    void mallocKeepsEveryBlockWrittenFromThreeThreads() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 4096, "num_blocks", 3000));
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "M0", 0, 1000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "M0", 1000, 1000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "M0", 2000, 1000, 4, true).start(t.layer()));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(30, TimeUnit.SECONDS);
                assertThat(res.written()).isEqualTo(1000);
                assertThat(res.read()).isEqualTo(1000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            assertThat(t.rpc("bdev_get_iostat", Map.of("names", List.of("M0"))).get("bdevs").get(0)
                    .get("num_write_ops").asLong()).isEqualTo(3000);
        }
    }

    @Test
    void nullCompletesEverythingAndStoresNothing() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_null_create", Map.of("name", "N0", "block_size", 512, "num_blocks", 4096));
            IoLoop.Result res = new IoLoop(t.thread("w0", 0), "N0", 0, 2000, 32, true).start(t.layer())
                    .get(30, TimeUnit.SECONDS);
            assertThat(res.written()).isEqualTo(2000);
            assertThat(res.read()).isEqualTo(2000);
            assertThat(res.failed()).isZero();
            // the read buffers still hold what was last written into them, not the block asked for
            assertThat(res.mismatches()).isPositive();
        }
    }
}
