package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every raid level keeps data intact with three threads writing and reading through it at once. */
class RaidStackIntegrityTest {
    @TempDir
    Path dir;

    @Test
    void raid0() throws Exception {
        verifyFromThreeThreads(List.of(3000, 3000, 3000), "raid0", 4);
    }

    @Test
    void concatOfMembersOfDifferentSizes() throws Exception {
        verifyFromThreeThreads(List.of(1000, 1500, 700), "concat", 4);
    }

    @Test
    void raid1() throws Exception {
        verifyFromThreeThreads(List.of(3000, 3000), "raid1", 0);
    }

    @Test
    void raid1LosingAMemberUnderLoadShowsNoError() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 6000));
            t.rpc("bdev_malloc_create", Map.of("name", "M1", "block_size", 512, "num_blocks", 6000));
            t.rpc("bdev_error_create", Map.of("base_name", "M1"));
            t.rpc("bdev_raid_create", Map.of("name", "R", "raid_level", "raid1", "base_bdevs", List.of("M0", "EE_M1")));
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "R", 0, 2000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "R", 2000, 2000, 16, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "R", 4000, 2000, 8, true).start(t.layer()));
            t.rpc("bdev_error_inject_error", Map.of("name", "EE_M1", "io_type", "all", "error_type", "failure",
                    "num", 1_000_000));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(2000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            // the loops may have ended before the member's first failure: one more write makes sure
            new IoLoop(t.thread("w3", 0), "R", 0, 16, 4, true).start(t.layer()).get(60, TimeUnit.SECONDS);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> t.rpc(
                    "bdev_raid_get_bdevs", Map.of("category", "online")).get(0).get("num_base_bdevs_operational")
                    .asInt() == 1);
        }
    }

    private void verifyFromThreeThreads(List<Integer> memberBlocks, String level, int stripKb) throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            List<String> members = new java.util.ArrayList<>();
            for (int i = 0; i < memberBlocks.size(); i++) {
                t.rpc("bdev_malloc_create", Map.of("name", "M" + i, "block_size", 512, "num_blocks",
                        memberBlocks.get(i)));
                members.add("M" + i);
            }
            Map<String, Object> p = new java.util.HashMap<>(Map.of("name", "R", "raid_level", level, "base_bdevs",
                    members));
            if (stripKb > 0) {
                p.put("strip_size_kb", stripKb);
            }
            t.rpc("bdev_raid_create", p);
            long third = t.layer().get("R").numBlocks() / 3;
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
            // deleting a member takes the raid down (raid1: only when its last member goes)
            for (String m : members) {
                assertThat(t.rpc("bdev_malloc_delete", Map.of("name", m)).asBoolean()).isTrue();
            }
            assertThat(t.rpc("bdev_get_bdevs", null)).isEmpty();
        }
    }
}
