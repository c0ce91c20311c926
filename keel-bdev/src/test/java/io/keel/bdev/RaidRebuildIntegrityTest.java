package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A raid1 rebuild under writes and verifying reads from three threads: no error, and the target ends a mirror. */
class RaidRebuildIntegrityTest {
    private static final long BLOCKS = 12000;

    @TempDir
    Path dir;

    @Test
    void ioFromThreeThreadsRunsThroughARebuild() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            for (String m : new String[] {"M0", "M1", "M2"}) {
                t.rpc("bdev_malloc_create", Map.of("name", m, "block_size", 512, "num_blocks", BLOCKS));
            }
            // small windows at 2 MiB/s: the 6 MB copy lasts about 3 s, longer than the loops
            t.rpc("bdev_raid_set_options", Map.of("process_window_size_kb", 16, "process_max_bandwidth_mb_sec", 2));
            t.rpc("bdev_raid_create", Map.of("name", "R", "raid_level", "raid1", "base_bdevs", List.of("M0", "M1")));
            t.rpc("bdev_raid_remove_base_bdev", Map.of("name", "M1"));
            t.rpc("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R", "base_bdev", "M2"));
            long third = BLOCKS / 3;
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "R", 0, third, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "R", third, third, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "R", 2 * third, third, 8, true).start(t.layer()));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(third);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            assertThat(t.rpc("bdev_raid_get_bdevs", Map.of("category", "all")).get(0).has("process"))
                    .as("the loops ran during the rebuild").isTrue();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !t.rpc("bdev_raid_get_bdevs",
                    Map.of("category", "all")).get(0).has("process"));
            // the target alone holds what the loops wrote, as the old member does
            t.rpc("bdev_raid_remove_base_bdev", Map.of("name", "M0"));
            for (String name : new String[] {"R", "M0"}) {
                IoLoop.Result res = new IoLoop(t.thread("check_" + name, 0), name, 0, 3 * third, 16, true).readOnly()
                        .start(t.layer()).get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(3 * third);
                assertThat(res.mismatches()).as(name).isZero();
                assertThat(res.failed()).isZero();
            }
        }
    }
}
