package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A raid1 rebuild onto a member added to a degraded raid: copy, progress, removal and delete while it runs. */
class RaidRebuildTest {
    private static final int BLOCK = 512;
    private static final long BLOCKS = 8192;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    /** A raid1 R1 of M0 and M1 holding a pattern, M1 then removed; M2 waits to be added. */
    private MemorySegment degradedRaidWithData(int windowKb, int mbSec) {
        assertThat(h.result("bdev_raid_set_options", Map.of("process_window_size_kb", windowKb,
                "process_max_bandwidth_mb_sec", mbSec)).asBoolean()).isTrue();
        for (String m : new String[] {"M0", "M1", "M2"}) {
            h.malloc(m, BLOCKS, BLOCK);
        }
        assertThat(h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs",
                List.of("M0", "M1"))).asBoolean()).isTrue();
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(BLOCKS * BLOCK, 7);
        assertThat(r.write(0, data).ok()).isTrue();
        r.close();
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "M1")).asBoolean()).isTrue();
        return data;
    }

    private JsonNode raid() {
        return h.result("bdev_raid_get_bdevs", Map.of("category", "all")).get(0);
    }

    private MemorySegment readAll(String name) {
        VbdevHarness.Handle m = h.open(name, false);
        MemorySegment buf = h.buffer(BLOCKS * BLOCK);
        assertThat(m.read(0, buf).ok()).isTrue();
        m.close();
        return buf;
    }

    @Test
    void rebuildCopiesEveryBlockAndTheTargetBecomesAMember() {
        MemorySegment data = degradedRaidWithData(64, 0);
        assertThat(raid().get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        assertThat(h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2")).asBoolean())
                .isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        JsonNode raid = raid();
        assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        assertThat(raid.get("num_base_bdevs_discovered").asInt()).isEqualTo(2);
        assertThat(VbdevHarness.differences(readAll("M2"), data)).isEmpty();
        assertThat(VbdevHarness.differences(readAll("M0"), data)).isEmpty();
    }

    @Test
    void progressIsReportedAndTheBandwidthLimitHoldsTheCopyBack() {
        MemorySegment data = degradedRaidWithData(64, 2); // 4 MiB at 2 MiB/s: about 2 s
        long start = System.nanoTime();
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        await().atMost(VbdevHarness.WAIT).until(() -> {
            JsonNode p = raid().get("process");
            return p != null && p.get("progress").get("blocks").asLong() > 0;
        });
        JsonNode raid = raid();
        JsonNode process = raid.get("process");
        assertThat(process.get("type").asText()).isEqualTo("rebuild");
        assertThat(process.get("target").asText()).isEqualTo("M2");
        long blocks = process.get("progress").get("blocks").asLong();
        assertThat(blocks).isLessThan(BLOCKS);
        assertThat(process.get("progress").get("percent").asInt()).isEqualTo((int) (blocks * 100 / BLOCKS));
        assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        assertThat(System.nanoTime() - start).isGreaterThan(1_500_000_000L);
        assertThat(VbdevHarness.differences(readAll("M2"), data)).isEmpty();
    }

    @Test
    void removingTheTargetStopsTheRebuild() {
        degradedRaidWithData(64, 1);
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        assertThat(raid().has("process")).isTrue();
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "M2")).asBoolean()).isTrue();
        JsonNode raid = raid();
        assertThat(raid.has("process")).isFalse();
        assertThat(raid.get("state").asText()).isEqualTo("online");
        assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        assertThat(h.bdev("M2").get("claimed").asBoolean()).isFalse();
        // and it can be added again, rebuilt from the start
        h.result("bdev_raid_set_options", Map.of("process_max_bandwidth_mb_sec", 0));
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        assertThat(VbdevHarness.differences(readAll("M2"), readAll("M0"))).isEmpty();
    }

    @Test
    void theTargetGoingAwayStopsTheRebuild() {
        degradedRaidWithData(64, 1);
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        assertThat(h.result("bdev_malloc_delete", Map.of("name", "M2")).asBoolean()).isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        assertThat(raid().get("state").asText()).isEqualTo("online");
        assertThat(raid().get("num_base_bdevs_operational").asInt()).isEqualTo(1);
    }

    @Test
    void deletingTheRaidDuringARebuildCompletes() {
        degradedRaidWithData(64, 1);
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> h.result("bdev_raid_get_bdevs", Map.of("category", "all"))
                .isEmpty() && !h.bdev("M2").get("claimed").asBoolean() && !h.bdev("M0").get("claimed").asBoolean());
    }
}
