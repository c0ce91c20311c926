package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raid1 rebuild with a superblock across real restarts of Keel, on uring files: a rebuild stopped by the restart
 * goes on from its checkpoint; a target that missed writes is rebuilt from block 0; a finished rebuild leaves both
 * members configured. Each restart configures only the base bdevs (same files, same UUIDs), as a saved config does.
 */
class RaidRebuildRestartTest {
    private static final int BLOCK = 512;
    private static final long FILE_BYTES = 4L << 20;
    /** The members' data regions: after the superblock's reserved megabyte. */
    private static final long DATA_OFFSET = RaidSuperblock.MIN_DATA_OFFSET_BYTES;
    private static final long RAID_BLOCKS = (FILE_BYTES - DATA_OFFSET) / BLOCK;

    @TempDir
    Path dir;
    private final List<UUID> uuids = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());

    private List<Path> files() throws Exception {
        List<Path> files = List.of(dir.resolve("m0.img"), dir.resolve("m1.img"), dir.resolve("m2.img"));
        for (Path f : files) {
            if (!Files.exists(f)) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[] {0}), FILE_BYTES - 1);
                }
            }
        }
        return files;
    }

    /** Keel started with the rebuild held to {@code mbSec} (0: no limit) and U0, U1, U2 on the three files. */
    private VbdevHarness start(int mbSec) throws Exception {
        return start(mbSec, 3);
    }

    /** As {@link #start(int)} with only the first {@code members} of U0, U1, U2. */
    private VbdevHarness start(int mbSec, int members) throws Exception {
        VbdevHarness h = VbdevHarness.start(dir);
        h.result("bdev_raid_set_options", Map.of("process_window_size_kb", 64, "process_max_bandwidth_mb_sec", mbSec));
        for (int i = 0; i < members; i++) {
            member(h, i);
        }
        return h;
    }

    private void member(VbdevHarness h, int i) throws Exception {
        h.result("bdev_uring_create", Map.of("filename", files().get(i).toString(), "name", "U" + i, "block_size",
                BLOCK, "uuid", uuids.get(i).toString()));
    }

    /** R1, a raid1 with a superblock on U0 and U1 holding a pattern, U1 then removed and U2 added: rebuilding. */
    private static byte[] rebuildingRaid(VbdevHarness h) {
        h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", List.of("U0", "U1"),
                "superblock", true));
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
        byte[] data = write(h, 0, h.pattern(RAID_BLOCKS * BLOCK, 3));
        h.result("bdev_raid_remove_base_bdev", Map.of("name", "U1"));
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "U2"));
        return data;
    }

    private static byte[] write(VbdevHarness h, long offsetBlocks, MemorySegment data) {
        VbdevHarness.Handle r = h.open("R1");
        assertThat(r.write(offsetBlocks, data).ok()).isTrue();
        r.close();
        return data.toArray(ValueLayout.JAVA_BYTE); // the harness's buffers go with it
    }

    private static JsonNode raid(VbdevHarness h) {
        return h.result("bdev_raid_get_bdevs", Map.of("category", "all")).get(0);
    }

    /** The superblock on a member's file, as the page cache has it. */
    private RaidSuperblock superblockOn(String file) throws Exception {
        SuperblockDecode d = decodeFirstBlock(file);
        assertThat(d).isInstanceOf(SuperblockDecode.Decoded.class);
        return ((SuperblockDecode.Decoded) d).superblock();
    }

    private SuperblockDecode decodeFirstBlock(String file) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.READ)) {
            ch.read(b, 0);
        }
        return SuperblockCodec.decode(MemorySegment.ofArray(b.array()));
    }

    /** Waits for U2's superblock (none until the first checkpoint) to record the rebuild; returns the checkpoint. */
    private RebuildCheckpoint checkpointOnTarget() throws Exception {
        await().atMost(VbdevHarness.WAIT).until(() -> decodeFirstBlock("m2.img") instanceof SuperblockDecode.Decoded d
                && d.superblock().rebuild() != null);
        RebuildCheckpoint cp = superblockOn("m2.img").rebuild();
        assertThat(cp.slot()).isEqualTo(1);
        assertThat(cp.target()).isEqualTo(uuids.get(2));
        assertThat(cp.copiedBlocks()).isBetween(1L, RAID_BLOCKS - 1);
        return cp;
    }

    private byte[] dataRegion(String file) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) (RAID_BLOCKS * BLOCK));
        try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.READ)) {
            ch.read(b, DATA_OFFSET);
        }
        return b.array();
    }

    /** The first block where two members' data regions differ, or -1. */
    private long firstDifference(String a, String b) throws Exception {
        int at = Arrays.mismatch(dataRegion(a), dataRegion(b));
        return at < 0 ? -1 : at / BLOCK;
    }

    @Test
    void aRebuildStoppedByARestartGoesOnFromItsCheckpoint() throws Exception {
        byte[] data;
        RebuildCheckpoint cp;
        try (VbdevHarness h = start(1)) { // 3 MiB at 1 MiB/s: about 3 s, checkpointed every second
            data = rebuildingRaid(h);
            cp = checkpointOnTarget();
            assertThat(raid(h).has("process")).isTrue();
        }
        RebuildCheckpoint atStop = superblockOn("m2.img").rebuild();
        assertThat(atStop.copiedBlocks()).isGreaterThanOrEqualTo(cp.copiedBlocks()).isLessThan(RAID_BLOCKS);
        assertThat(superblockOn("m0.img")).as("the same superblock on both").isEqualTo(superblockOn("m2.img"));
        try (VbdevHarness h = start(1)) {
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            JsonNode raid = raid(h);
            assertThat(raid.get("state").asText()).isEqualTo("online");
            assertThat(raid.get("num_base_bdevs_discovered").asInt()).isEqualTo(2);
            assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(2);
            JsonNode process = raid.get("process");
            assertThat(process.get("target").asText()).isEqualTo("U2");
            assertThat(process.get("progress").get("blocks").asLong()).as("resumed, not from block 0")
                    .isGreaterThanOrEqualTo(atStop.copiedBlocks());
            await().atMost(VbdevHarness.WAIT).until(() -> !raid(h).has("process"));
            assertThat(raid(h).get("base_bdevs_list").get(1).get("is_configured").asBoolean()).isTrue();
        }
        assertThat(firstDifference("m0.img", "m2.img")).isEqualTo(-1);
        assertThat(dataRegion("m2.img")).isEqualTo(data);
        RaidSuperblock sb = superblockOn("m2.img");
        assertThat(sb.rebuild()).isNull();
        assertThat(sb.members().get(1).state()).isEqualTo(MemberState.CONFIGURED);
    }

    @Test
    void aTargetThatMissedWritesIsRebuiltFromBlockZero() throws Exception {
        byte[] newer;
        RebuildCheckpoint cp;
        try (VbdevHarness h = start(1)) {
            rebuildingRaid(h);
            cp = checkpointOnTarget();
            h.result("bdev_raid_remove_base_bdev", Map.of("name", "U2"));
            // below the checkpoint: U2 has the old data there
            newer = write(h, 0, h.pattern(RAID_BLOCKS * BLOCK, 9));
        }
        assertThat(superblockOn("m2.img").seqNumber()).isLessThan(superblockOn("m0.img").seqNumber());
        assertThat(superblockOn("m0.img").rebuild()).as("the checkpoint went with the target").isNull();
        try (VbdevHarness h = start(1)) {
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            // U2's superblock is older: not trusted as a member, but re-added and rebuilt from block 0 (as SPDK)
            await().atMost(VbdevHarness.WAIT).until(() -> raid(h).has("process"));
            JsonNode process = raid(h).get("process");
            assertThat(process.get("target").asText()).isEqualTo("U2");
            assertThat(process.get("progress").get("blocks").asLong()).as("from block 0").isLessThan(cp.copiedBlocks());
            await().atMost(VbdevHarness.WAIT).until(() -> !raid(h).has("process"));
            assertThat(raid(h).get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        }
        assertThat(firstDifference("m0.img", "m2.img")).isEqualTo(-1);
        assertThat(dataRegion("m2.img")).isEqualTo(newer);
    }

    @Test
    void aTargetThatDoesNotComeBackIsWaitedForWithABound() throws Exception {
        byte[] data;
        RebuildCheckpoint cp;
        try (VbdevHarness h = start(1)) {
            data = rebuildingRaid(h);
            cp = checkpointOnTarget();
        }
        try (VbdevHarness h = start(1, 2)) { // U2 missing
            long started = System.nanoTime();
            h.result("bdev_wait_for_examine", Map.of()); // U0's superblock read: the raid is listed
            assertThat(raid(h).get("state").asText()).as("waiting for U2").isEqualTo("configuring");
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            assertThat(System.nanoTime() - started).isGreaterThan(Raid.TARGET_WAIT_MICROS * 1000 / 2);
            JsonNode raid = raid(h);
            assertThat(raid.get("state").asText()).isEqualTo("online");
            assertThat(raid.has("process")).isFalse();
            assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
            assertThat(superblockOn("m0.img").rebuild()).as("the checkpoint dropped").isNull();
            member(h, 2); // too late for the checkpoint: its superblock is older now, so it is rebuilt from block 0
            await().atMost(VbdevHarness.WAIT).until(() -> raid(h).has("process"));
            assertThat(raid(h).get("process").get("progress").get("blocks").asLong()).as("from block 0")
                    .isLessThan(cp.copiedBlocks());
            await().atMost(VbdevHarness.WAIT).until(() -> !raid(h).has("process"));
        }
        assertThat(firstDifference("m0.img", "m2.img")).isEqualTo(-1);
        assertThat(dataRegion("m2.img")).isEqualTo(data);
    }

    @Test
    void aFinishedRebuildLeavesBothMembersConfiguredAfterARestart() throws Exception {
        byte[] data;
        try (VbdevHarness h = start(0)) {
            data = rebuildingRaid(h);
            await().atMost(VbdevHarness.WAIT).until(() -> !raid(h).has("process"));
        }
        RaidSuperblock sb = superblockOn("m2.img");
        assertThat(sb).isEqualTo(superblockOn("m0.img"));
        assertThat(sb.rebuild()).isNull();
        assertThat(sb.members().get(1)).isEqualTo(new SuperblockMember(uuids.get(2), DATA_OFFSET / BLOCK, RAID_BLOCKS,
                1, MemberState.CONFIGURED));
        try (VbdevHarness h = start(0)) {
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            JsonNode raid = raid(h);
            assertThat(raid.has("process")).as("no rebuild").isFalse();
            assertThat(raid.get("num_base_bdevs_discovered").asInt()).isEqualTo(2);
            assertThat(raid.get("num_base_bdevs_operational").asInt()).isEqualTo(2);
            for (int slot = 0; slot < 2; slot++) {
                JsonNode m = raid.get("base_bdevs_list").get(slot);
                assertThat(m.get("name").asText()).isEqualTo(slot == 0 ? "U0" : "U2");
                assertThat(m.get("is_configured").asBoolean()).isTrue();
            }
            VbdevHarness.Handle r = h.open("R1");
            MemorySegment back = h.buffer(RAID_BLOCKS * BLOCK);
            assertThat(r.read(0, back).ok()).isTrue();
            assertThat(back.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(data);
            r.close();
        }
        assertThat(firstDifference("m0.img", "m2.img")).isEqualTo(-1);
    }
}
