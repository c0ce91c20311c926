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
}
