package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.passthru.AllocationProbe;
import io.keel.bdev.passthru.VbdevHarness;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** raid0 (I/O crossing strips) and raid1 (mirrored writes, balanced reads) allocate nothing per I/O. */
class RaidNoAllocationTest {
    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        for (String m : new String[] {"M0", "M1", "M2", "M3"}) {
            h.malloc(m, 1024, 512);
        }
        h.result("bdev_raid_create", Map.of("name", "R0", "raid_level", "raid0", "strip_size_kb", 4, "base_bdevs",
                List.of("M0", "M1")));
        h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", List.of("M2", "M3")));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    @Test
    void raid0AllocatesNothingPerIo() {
        // 6-block I/Os from block 5 on: with 8-block strips most of them are split over both members
        assertThat(new AllocationProbe(h).bytesPerRound("R0", 6, 5)).isLessThan(4096);
    }

    @Test
    void raid1AllocatesNothingPerIo() {
        assertThat(new AllocationProbe(h).bytesPerRound("R1", 4, 0)).isLessThan(4096);
    }
}
