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

/**
 * Raids with a superblock come back from their members: the members are passthru bdevs on malloc, deleted and made
 * again (passthru's UUID follows its base's), so the raid's members disappear and reappear with their data.
 */
class RaidSuperblockTest {
    private static final int BLOCK = 512;
    /** 2 MiB members: 1 MiB reserved for the superblock, 1 MiB of data. */
    private static final int MEMBER_BLOCKS = 4096;

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

    private void members(int n) {
        for (int i = 0; i < n; i++) {
            h.malloc("M" + i, MEMBER_BLOCKS, BLOCK);
            passthru(i);
        }
    }

    private void passthru(int i) {
        h.result("bdev_passthru_create", Map.of("name", "P" + i, "base_bdev_name", "M" + i));
    }

    private JsonNode raid(String name) {
        for (JsonNode r : h.result("bdev_raid_get_bdevs", Map.of("category", "all"))) {
            if (r.get("name").asText().equals(name)) {
                return r;
            }
        }
        return null;
    }

    @Test
    void raid1ComesBackFromItsMembersWithItsData() {
        members(2);
        h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", List.of("P0", "P1"),
                "superblock", true));
        JsonNode info = raid("R1");
        assertThat(info.get("superblock").asBoolean()).isTrue();
        assertThat(info.get("base_bdevs_list").get(0).get("data_offset").asLong()).isEqualTo(2048);
        assertThat(info.get("base_bdevs_list").get(0).get("data_size").asLong()).isEqualTo(2048);
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        String uuid = h.bdev("R1").get("uuid").asText();
        assertThat(h.bdev("R1").get("num_blocks").asLong()).isEqualTo(2048);
        assertThat(h.configMethods()).doesNotContain("bdev_raid_create"); // it comes back by examine
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(64 * BLOCK, 4);
        assertThat(r.write(100, data).ok()).isTrue();
        r.close();

        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        for (int i = 1; i >= 0; i--) { // members go and come back, the second first
            h.result("bdev_passthru_delete", Map.of("name", "P" + i));
        }
        passthru(1);
        await().atMost(VbdevHarness.WAIT).until(() -> raid("R1") != null);
        assertThat(raid("R1").get("state").asText()).isEqualTo("configuring");
        passthru(0);
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        assertThat(h.bdev("R1").get("uuid").asText()).isEqualTo(uuid);
        assertThat(raid("R1").get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        VbdevHarness.Handle again = h.open("R1");
        MemorySegment back = h.buffer(64 * BLOCK);
        assertThat(again.read(100, back).ok()).isTrue();
        assertThat(VbdevHarness.differences(data, back)).isEmpty();
        again.close();
    }

    @Test
    void aMemberWithAnOlderSuperblockIsNotTrustedButRebuilt() {
        members(3);
        h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs",
                List.of("P0", "P1", "P2"), "superblock", true));
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        // P2 leaves: P0 and P1 get the next superblock with slot 2 MISSING; P2 keeps the older one
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "P2")).asBoolean()).isTrue();
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(16 * BLOCK, 8);
        assertThat(r.write(0, data).ok()).isTrue(); // P2 misses this write
        r.close();
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        for (int i = 0; i < 3; i++) {
            h.result("bdev_passthru_delete", Map.of("name", "P" + i));
        }
        passthru(2); // the stale member first: a raid is started from its superblock...
        await().atMost(VbdevHarness.WAIT).until(() -> raid("R1") != null);
        passthru(0); // ...and replaced by the newer one
        passthru(1);
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        // online without P2, which is then re-added as a rebuild target (SPDK's re-add), not trusted as a member
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("P2").get("claimed").asBoolean());
        await().atMost(VbdevHarness.WAIT).until(() -> !raid("R1").has("process"));
        JsonNode info = raid("R1");
        assertThat(info.get("state").asText()).isEqualTo("online");
        assertThat(info.get("num_base_bdevs_operational").asInt()).isEqualTo(3);
        assertThat(info.get("num_base_bdevs_discovered").asInt()).isEqualTo(3);
        assertThat(info.get("base_bdevs_list").get(2).get("is_configured").asBoolean()).isTrue();
        VbdevHarness.Handle again = h.open("R1");
        long p2DataOffset = info.get("base_bdevs_list").get(2).get("data_offset").asLong();
        for (int i = 0; i < 8; i++) { // whichever member serves it, the data is the last written
            MemorySegment back = h.buffer(16 * BLOCK);
            assertThat(again.read(0, back).ok()).isTrue();
            assertThat(VbdevHarness.differences(data, back)).isEmpty();
        }
        again.close();
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        VbdevHarness.Handle p2 = h.open("P2"); // the rebuild wrote the write P2 had missed
        MemorySegment onP2 = h.buffer(16 * BLOCK);
        assertThat(p2.read(p2DataOffset, onP2).ok()).isTrue();
        assertThat(VbdevHarness.differences(data, onP2)).isEmpty();
        p2.close();
    }

    @Test
    void deleteWithClearSbLeavesNothingToAssemble() {
        members(2);
        h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", List.of("P0", "P1"),
                "superblock", true));
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1", "clear_sb", true)).asBoolean()).isTrue();
        for (int i = 0; i < 2; i++) {
            h.result("bdev_passthru_delete", Map.of("name", "P" + i));
            passthru(i);
        }
        assertThat(h.result("bdev_wait_for_examine", null).asBoolean()).isTrue(); // the reads found no superblock
        assertThat(raid("R1")).isNull();
        assertThat(h.bdev("P0").get("claimed").asBoolean()).isFalse();
    }
}
