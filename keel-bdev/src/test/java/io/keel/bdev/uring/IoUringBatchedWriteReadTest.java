package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.BLOCK;
import static io.keel.bdev.uring.UringTestSupport.fillPattern;
import static io.keel.bdev.uring.UringTestSupport.openRing;
import static io.keel.bdev.uring.UringTestSupport.submitAndReapAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A file-backed bdev's basic cycle: many 4 KiB blocks written at scattered offsets in one batched submit, a data
 * sync through the ring, then everything read back in one submit. Run buffered and with O_DIRECT; the file is
 * also checked through the JDK's own file API, so the data really landed at those offsets.
 */
class IoUringBatchedWriteReadTest {
    private static final int BLOCKS = 48;
    private static final int FILE_BLOCKS = 1024; // 4 MiB

    @TempDir
    Path tmp;

    /** Block i goes to a scattered, non-sequential block index. */
    private static long offsetOf(int i) {
        return (long) ((i * 337L + 11) % FILE_BLOCKS) * BLOCK;
    }

    @ParameterizedTest(name = "direct={0}")
    @ValueSource(booleans = {false, true})
    void blocksWrittenInOneSubmitAreDurableAndReadBack(boolean direct) throws IOException {
        Path dir = direct ? UringTestSupport.directIoDir(tmp) : tmp;
        Path file = Files.createTempFile(dir, "keel-uring-rw", ".dat");
        try (Arena arena = Arena.ofConfined();
             NativeFile f = NativeFile.create(file, (long) FILE_BLOCKS * BLOCK, direct);
             IoUring ring = openRing(64)) {
            assertThat(f.isDirect()).isEqualTo(direct);
            MemorySegment out = IoBuffers.allocate(arena, (long) BLOCKS * BLOCK);
            MemorySegment in = IoBuffers.allocate(arena, (long) BLOCKS * BLOCK);
            for (int i = 0; i < BLOCKS; i++) {
                fillPattern(out.asSlice((long) i * BLOCK, BLOCK), i + 1);
            }

            // all writes in one io_uring_enter
            for (int i = 0; i < BLOCKS; i++) {
                assertThat(ring.prepareWrite(f.fd(), out.asSlice((long) i * BLOCK, BLOCK), BLOCK, offsetOf(i), i))
                        .isTrue();
            }
            assertThat(ring.queued()).isEqualTo(BLOCKS);
            assertThat(ring.submit()).isEqualTo(BLOCKS);
            assertThat(ring.queued()).isZero();
            Recorder writes = new Recorder();
            submitAndReapAll(ring, writes, BLOCKS);
            for (int i = 0; i < BLOCKS; i++) {
                assertThat(writes.res(i)).as("write %d", i).isEqualTo(BLOCK);
            }

            // fdatasync through the ring, after the writes completed
            assertThat(ring.prepareFsync(f.fd(), true, 1000)).isTrue();
            Recorder sync = new Recorder();
            submitAndReapAll(ring, sync, 1);
            assertThat(sync.res(1000)).isZero();

            // all reads in one io_uring_enter
            for (int i = 0; i < BLOCKS; i++) {
                assertThat(ring.prepareRead(f.fd(), in.asSlice((long) i * BLOCK, BLOCK), BLOCK, offsetOf(i), i))
                        .isTrue();
            }
            assertThat(ring.submit()).isEqualTo(BLOCKS);
            Recorder reads = new Recorder();
            submitAndReapAll(ring, reads, BLOCKS);
            for (int i = 0; i < BLOCKS; i++) {
                assertThat(reads.res(i)).as("read %d", i).isEqualTo(BLOCK);
            }
            assertThat(in.mismatch(out)).as("first differing byte").isEqualTo(-1L);
            assertThat(ring.inFlight()).isZero();

            // independent check through the JDK
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer bb = ByteBuffer.allocateDirect(BLOCK);
                for (int i = 0; i < BLOCKS; i++) {
                    bb.clear();
                    ch.read(bb, offsetOf(i));
                    bb.flip();
                    assertThat(MemorySegment.ofBuffer(bb).mismatch(out.asSlice((long) i * BLOCK, BLOCK)))
                            .as("block %d at offset %d", i, offsetOf(i)).isEqualTo(-1L);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @ParameterizedTest(name = "dataSync={0}")
    @ValueSource(booleans = {false, true})
    void fsyncCompletesWithZero(boolean dataSync) throws IOException {
        Path file = tmp.resolve("sync.dat");
        try (NativeFile f = NativeFile.create(file, BLOCK, false); IoUring ring = openRing(4)) {
            assertThat(ring.prepareFsync(f.fd(), dataSync, 7)).isTrue();
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 1);
            assertThat(r.res(7)).isZero();
        }
    }
}
