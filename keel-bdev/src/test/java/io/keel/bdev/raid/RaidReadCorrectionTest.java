package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * raid1 read-error correction ({@code raid1_correct_read_error}): a read its first member fails is served by another
 * member and that data written back to the failing one, under a lock on the range. To see the write-back, the members
 * start out different at the blocks read (written before the raid claimed them; raid1 does no initial sync): the
 * error bdev's member holds "old", the other "good". A read that member serves without the correction returns old.
 */
class RaidReadCorrectionTest {
    private static final int BLOCK = 512;
    private static final long AT = 40;
    private static final int BLOCKS = 4;

    @TempDir
    Path dir;
    VbdevHarness h;
    MemorySegment old;
    MemorySegment good;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        old = h.pattern(BLOCKS * BLOCK, 1);
        good = h.pattern(BLOCKS * BLOCK, 2);
        writeDirectly("M0", old);
        writeDirectly("M1", good);
        h.result("bdev_error_create", Map.of("base_name", "M0"));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private void writeDirectly(String bdev, MemorySegment data) {
        VbdevHarness.Handle m = h.open(bdev);
        assertThat(m.write(AT, data).ok()).isTrue();
        m.close();
    }

    private MemorySegment readDirectly(String bdev) {
        VbdevHarness.Handle m = h.open(bdev, false);
        MemorySegment back = h.buffer(BLOCKS * BLOCK);
        assertThat(m.read(AT, back).ok()).isTrue();
        m.close();
        return back;
    }

    /** raid1 R1 on EE_M0 (slot 0, which an idle channel reads first) and the members listed after it. */
    private RaidBdev raid1(String... more) {
        List<String> members = new java.util.ArrayList<>(List.of("EE_M0"));
        members.addAll(List.of(more));
        assertThat(h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", members))
                .asBoolean()).isTrue();
        return (RaidBdev) h.layer().get("R1");
    }

    private void inject(String ioType, String errorType) {
        h.result("bdev_error_inject_error", Map.of("name", "EE_M0", "io_type", ioType, "error_type", errorType,
                "num", 1));
    }

    private MemorySegment read(VbdevHarness.Handle r) {
        MemorySegment back = h.buffer(BLOCKS * BLOCK);
        assertThat(r.read(AT, back).ok()).as("the raid's read").isTrue();
        return back;
    }

    private JsonNode raidInfo() {
        return h.result("bdev_raid_get_bdevs", Map.of("category", "all")).get(0);
    }

    private long ops(String bdev, String field) {
        for (JsonNode b : h.result("bdev_get_iostat", null).get("bdevs")) {
            if (b.get("name").asText().equals(bdev)) {
                return b.get(field).asLong();
            }
        }
        throw new AssertionError("no iostat for " + bdev);
    }

    @Test
    void aFailedReadIsServedByTheOtherMemberAndWrittenBackToTheFailingOne() {
        RaidBdev raid = raid1("M1");
        VbdevHarness.Handle r = h.open("R1");
        assertThat(VbdevHarness.differences(read(r), old)).as("unlike members: slot 0 is read").isEmpty();

        inject("read", "failure");
        assertThat(VbdevHarness.differences(read(r), good)).isEmpty();
        assertThat(raid.readsCorrected()).isEqualTo(1);
        // EE_M0 serves the next read again, now with the good data
        long m1Reads = ops("M1", "num_read_ops");
        assertThat(VbdevHarness.differences(read(r), good)).isEmpty();
        assertThat(ops("M1", "num_read_ops")).as("served by EE_M0").isEqualTo(m1Reads);
        assertThat(raidInfo().get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        assertThat(raid.correctionsSkipped()).isZero();
        r.close();
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        assertThat(VbdevHarness.differences(readDirectly("M0"), good)).as("on the member itself").isEmpty();
    }

    @Test
    void aFailedWriteBackFailsTheMemberWhileTheReadSucceeds() {
        RaidBdev raid = raid1("M1");
        VbdevHarness.Handle r = h.open("R1");
        inject("read", "failure");
        inject("write", "failure");
        assertThat(VbdevHarness.differences(read(r), good)).isEmpty();
        await().atMost(VbdevHarness.WAIT).until(() -> raidInfo().get("num_base_bdevs_operational").asInt() == 1);
        assertThat(h.bdev("EE_M0").get("claimed").asBoolean()).isFalse();
        assertThat(raid.readsCorrected()).isZero();
        assertThat(VbdevHarness.differences(read(r), good)).isEmpty();
        r.close();
    }

    @Test
    void aWriteToTheRangeWaitsUntilTheCorrectionIsWrittenBack() {
        raid1("M1");
        VbdevHarness.Handle r = h.open("R1");
        inject("read", "failure");
        inject("write", "pending"); // the write-back stays in EE_M0 until resumed
        long m1Reads = ops("M1", "num_read_ops");
        MemorySegment readBack = h.buffer(BLOCKS * BLOCK);
        CompletableFuture<VbdevHarness.IoResult> read = r.submit(IoType.READ, AT, BLOCKS, readBack);
        // the good read is done, so the write-back is held in EE_M0, with the range locked
        await().atMost(VbdevHarness.WAIT).until(() -> ops("M1", "num_read_ops") > m1Reads);
        MemorySegment newer = h.pattern(BLOCKS * BLOCK, 3);
        CompletableFuture<VbdevHarness.IoResult> write = r.submit(IoType.WRITE, AT + 2, 1,
                newer.asSlice(2 * BLOCK, BLOCK));
        await().atMost(VbdevHarness.WAIT).until(() -> h.onWorker(() -> r.channel().lockHeldBack()) == 1);
        assertThat(read.isDone() || write.isDone()).isFalse();

        assertThat(h.result("bdev_error_resume_pending", Map.of("name", "EE_M0")).asBoolean()).isTrue();
        assertThat(VbdevHarness.done(read).ok()).isTrue();
        assertThat(VbdevHarness.done(write).ok()).isTrue();
        assertThat(VbdevHarness.differences(readBack, good)).isEmpty();
        MemorySegment expected = h.copy(good);
        expected.asSlice(2 * BLOCK, BLOCK).copyFrom(newer.asSlice(2 * BLOCK, BLOCK));
        r.close();
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        assertThat(VbdevHarness.differences(readDirectly("M0"), expected)).as("the write came after").isEmpty();
        assertThat(VbdevHarness.differences(readDirectly("M1"), expected)).isEmpty();
    }

    @Test
    void aRebuildReadingThroughAFailingMemberSkipsTheCorrectionInsteadOfWaitingForItself() {
        h.malloc("M2", 512, BLOCK);
        h.malloc("M3", 512, BLOCK);
        RaidBdev raid = raid1("M1", "M2");
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "M2")).asBoolean()).isTrue();
        inject("read", "failure"); // the rebuild's first window is read from slot 0 first
        assertThat(h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M3")).asBoolean())
                .isTrue();
        // the window it copies is locked by the rebuild itself: a correction waiting for that lock would never run
        await().atMost(VbdevHarness.WAIT).until(() -> !raidInfo().has("process"));
        assertThat(raidInfo().get("num_base_bdevs_operational").asInt()).isEqualTo(3);
        assertThat(raid.correctionsSkipped()).isEqualTo(1);
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R1")).asBoolean()).isTrue();
        assertThat(VbdevHarness.differences(readDirectly("M3"), good)).as("copied from M1").isEmpty();
    }
}
