package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raid1 with a superblock on two uring file bdevs comes back after a restart of Keel with only its members
 * configured again (as a saved config recreates them: same files, same UUIDs), its data intact.
 */
class RaidRestartTest {
    private static final int BLOCK = 512;
    private static final long FILE_BYTES = 4L << 20;

    @TempDir
    Path dir;

    private Path file(String name) throws Exception {
        Path f = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0}), FILE_BYTES - 1);
        }
        return f;
    }

    private static void members(VbdevHarness h, List<Path> files, List<UUID> uuids) {
        for (int i = 0; i < files.size(); i++) {
            h.result("bdev_uring_create", Map.of("filename", files.get(i).toString(), "name", "U" + i, "block_size",
                    BLOCK, "uuid", uuids.get(i).toString()));
        }
    }

    @Test
    void raid1ComesBackAfterARestart() throws Exception {
        List<Path> files = List.of(file("m0.img"), file("m1.img"));
        List<UUID> uuids = List.of(UUID.randomUUID(), UUID.randomUUID());
        byte[] written;
        String raidUuid;
        try (VbdevHarness h = VbdevHarness.start(dir)) {
            members(h, files, uuids);
            h.result("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs", List.of("U0", "U1"),
                    "superblock", true));
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            raidUuid = h.bdev("R1").get("uuid").asText();
            VbdevHarness.Handle r = h.open("R1");
            MemorySegment data = h.pattern(128 * BLOCK, 6);
            assertThat(r.write(1000, data).ok()).isTrue();
            written = data.toArray(ValueLayout.JAVA_BYTE); // the harness's buffers go with it
            r.close();
        }
        try (VbdevHarness h = VbdevHarness.start(dir)) {
            members(h, files, uuids);
            await().atMost(VbdevHarness.WAIT).until(() -> h.bdev("R1") != null);
            assertThat(h.bdev("R1").get("uuid").asText()).isEqualTo(raidUuid);
            VbdevHarness.Handle r = h.open("R1");
            MemorySegment back = h.buffer(128 * BLOCK);
            assertThat(r.read(1000, back).ok()).isTrue();
            assertThat(VbdevHarness.differences(MemorySegment.ofArray(written), back)).isEmpty();
            r.close();
        }
    }
}
