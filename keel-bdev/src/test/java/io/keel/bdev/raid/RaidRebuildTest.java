package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.IoCounts;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
        return degradedRaidWithData(windowKb, mbSec, false);
    }

    private MemorySegment degradedRaidWithData(int windowKb, int mbSec, boolean superblock) {
        assertThat(h.result("bdev_raid_set_options", Map.of("process_window_size_kb", windowKb,
                "process_max_bandwidth_mb_sec", mbSec)).asBoolean()).isTrue();
        for (String m : new String[] {"M0", "M1", "M2"}) {
            h.malloc(m, BLOCKS, BLOCK);
        }
        assertThat(h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs",
                List.of("M0", "M1"), "superblock", superblock)).asBoolean()).isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null); // after the superblock's write
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(h.bdev("R1").get("num_blocks").asLong() * BLOCK, 7);
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

    private long progress() {
        JsonNode p = raid().get("process");
        return p == null ? BLOCKS : p.get("progress").get("blocks").asLong();
    }

    /** Whether every byte of {@code blocks} blocks of {@code buf} from block {@code from} is {@code expected}'s. */
    private static boolean sameBlocks(MemorySegment buf, MemorySegment expected, long from, long blocks) {
        return buf.asSlice(from * BLOCK, blocks * BLOCK).mismatch(expected.asSlice(from * BLOCK, blocks * BLOCK)) == -1;
    }

    private static boolean zeroBlocks(MemorySegment buf, long from, long blocks) {
        for (long i = from * BLOCK; i < (from + blocks) * BLOCK; i++) {
            if (buf.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
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
    void aRaidThatIsNotAWholeNumberOfWindowsIsCopiedToItsLastBlock() {
        MemorySegment data = degradedRaidWithData(3, 0); // windows of 6 blocks: the last one has 2
        assertThat(h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2")).asBoolean())
                .isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        assertThat(raid().get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        assertThat(VbdevHarness.differences(readAll("M2"), data)).isEmpty();
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
    void flushUnmapAndWriteZeroesReachTheTargetOnlyBelowTheRebuildOffset() {
        degradedRaidWithData(64, 1); // 4 MiB at 1 MiB/s
        VbdevHarness.Handle m2 = h.open("M2");
        MemorySegment before = h.pattern(BLOCKS * BLOCK, 5); // M2's old content: what the copy has not reached
        assertThat(m2.write(0, before).ok()).isTrue();
        m2.close();
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        await().atMost(VbdevHarness.WAIT).until(() -> progress() >= 256);
        VbdevHarness.Handle r = h.open("R1");
        VbdevHarness.Handle target = h.open("M2", false); // this thread's channel to M2, the one the raid uses here
        long flushes = h.onWorker(() -> IoCounts.ops(target.channel(), IoType.FLUSH));
        assertThat(r.run(IoType.FLUSH, BLOCKS - 64, 64, null).ok()).isTrue();
        assertThat(h.onWorker(() -> IoCounts.ops(target.channel(), IoType.FLUSH))).as("above: not sent")
                .isEqualTo(flushes);
        assertThat(r.run(IoType.FLUSH, 0, 16, null).ok()).isTrue();
        assertThat(h.onWorker(() -> IoCounts.ops(target.channel(), IoType.FLUSH))).as("below: sent")
                .isEqualTo(flushes + 1);

        long copiedBefore = progress();
        assertThat(r.run(IoType.WRITE_ZEROES, 0, 16, null).ok()).isTrue();
        assertThat(r.run(IoType.UNMAP, 16, 16, null).ok()).isTrue();
        assertThat(r.run(IoType.WRITE_ZEROES, BLOCKS - 64, 64, null).ok()).isTrue();
        assertThat(r.run(IoType.UNMAP, BLOCKS - 128, 64, null).ok()).isTrue();
        assertThat(r.run(IoType.WRITE_ZEROES, 64, BLOCKS - 256, null).ok()).as("across the offset").isTrue();
        MemorySegment now = readAll("M2");
        long notCopied = progress(); // at or past where the copy was while M2 was read
        assertThat(notCopied).isLessThan(BLOCKS - 256);
        assertThat(zeroBlocks(now, 0, 32)).as("below the offset: on the target at once").isTrue();
        assertThat(zeroBlocks(now, 64, copiedBefore - 64)).isTrue();
        assertThat(sameBlocks(now, before, notCopied, BLOCKS - notCopied)).as("above it: left to the copy").isTrue();
        target.close();
        r.close();
        await().atMost(VbdevHarness.WAIT).until(() -> !raid().has("process"));
        assertThat(VbdevHarness.differences(readAll("M2"), readAll("M0"))).isEmpty();
        assertThat(zeroBlocks(readAll("M2"), BLOCKS - 128, 128)).as("the copy brought the zeroes").isTrue();
    }

    @Test
    void aRebuildStoppedByRemovingItsTargetLeavesTheCountsAsSpdkReportsThem() {
        degradedRaidWithData(64, 1, true);
        JsonNode degraded = raid();
        assertThat(degraded.get("num_base_bdevs_discovered").asInt()).isEqualTo(1);
        assertThat(degraded.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"));
        JsonNode rebuilding = raid();
        assertThat(rebuilding.get("num_base_bdevs").asInt()).isEqualTo(2);
        assertThat(rebuilding.get("num_base_bdevs_discovered").asInt()).as("the target is configured").isEqualTo(2);
        assertThat(rebuilding.get("num_base_bdevs_operational").asInt()).as("and operational").isEqualTo(2);
        assertThat(rebuilding.get("base_bdevs_list").get(1).get("is_configured").asBoolean()).isTrue();
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "M2")).asBoolean()).isTrue();
        JsonNode stopped = raid();
        assertThat(stopped.has("process")).isFalse();
        assertThat(stopped.get("state").asText()).isEqualTo("online");
        assertThat(stopped.get("num_base_bdevs").asInt()).isEqualTo(2);
        assertThat(stopped.get("num_base_bdevs_discovered").asInt()).isEqualTo(1);
        assertThat(stopped.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        JsonNode slot = stopped.get("base_bdevs_list").get(1);
        assertThat(slot.get("name").isNull()).isTrue();
        assertThat(slot.get("is_configured").asBoolean()).isFalse();
        assertThat(slot.get("uuid").asText()).isEqualTo("00000000-0000-0000-0000-000000000000");
        // the superblock on M0 has the slot not configured, no rebuild to resume
        VbdevHarness.Handle m0 = h.open("M0", false);
        MemorySegment first = h.buffer(BLOCK);
        assertThat(m0.read(0, first).ok()).isTrue();
        m0.close();
        RaidSuperblock sb = ((SuperblockDecode.Decoded) SuperblockCodec.decode(first)).superblock();
        assertThat(sb.members().get(1).state()).isEqualTo(MemberState.MISSING);
        assertThat(sb.rebuild()).isNull();
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
