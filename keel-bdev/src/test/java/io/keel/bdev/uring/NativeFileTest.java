package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.openRing;
import static io.keel.bdev.uring.UringTestSupport.submitAndReapAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a file-backed bdev learns when it opens its file: O_DIRECT or not (and why), size, alignment; files are
 * created and extended for tests; failures carry the errno and the path.
 */
class NativeFileTest {
    @TempDir
    Path tmp;

    @Test
    void createMakesAFileOfTheSizeAndNeverShrinksAnExistingOne() throws IOException {
        Path p = tmp.resolve("sized.dat");
        try (NativeFile f = NativeFile.create(p, 1 << 20, false)) {
            assertThat(f.kind()).isEqualTo(NativeFile.Kind.REGULAR_FILE);
            assertThat(f.isBlockDevice()).isFalse();
            assertThat(f.size()).isEqualTo(1 << 20);
            assertThat(Files.size(p)).isEqualTo(1 << 20);
            f.setSize(3 << 20);
            assertThat(f.size()).isEqualTo(3 << 20);
        }
        try (NativeFile f = NativeFile.create(p, 4096, false)) {
            assertThat(f.size()).as("create does not shrink").isEqualTo(3 << 20);
            f.setSize(8192);
            assertThat(f.size()).isEqualTo(8192);
        }
    }

    @Test
    void bufferedFilesNeedNoAlignment() throws IOException {
        try (NativeFile f = NativeFile.create(tmp.resolve("buffered.dat"), 4096, false)) {
            assertThat(f.isDirect()).isFalse();
            assertThat(f.ioAlignment()).isEqualTo(1);
            assertThat(f.bufferAlignment()).isEqualTo(1);
            assertThat(f.alignmentSource()).isEqualTo(NativeFile.AlignmentSource.NONE);
            assertThat(f.logicalBlockSize()).isPositive();
            assertThat(f.toString()).contains("buffered");
        }
    }

    @Test
    void directFilesReportTheirAlignment() throws IOException {
        Path dir = UringTestSupport.directIoDir(tmp);
        Path p = Files.createTempFile(dir, "keel-direct", ".dat");
        try (NativeFile f = NativeFile.create(p, 64 * 1024, true)) {
            assertThat(f.isDirect()).isTrue();
            assertThat(f.ioAlignment()).isIn(512, 1024, 2048, 4096);
            assertThat(Integer.bitCount(f.bufferAlignment())).isEqualTo(1);
            assertThat(f.logicalBlockSize()).isEqualTo(f.ioAlignment());
            assertThat(f.alignmentSource()).isIn(NativeFile.AlignmentSource.STATX, NativeFile.AlignmentSource.PROBE);
            assertThat(f.toString()).contains("O_DIRECT", f.ioAlignment() + "-byte");
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /**
     * procfs refuses O_DIRECT with EINVAL (tmpfs accepts it since Linux 6.6, so it no longer shows the fallback):
     * the file opens buffered, says so, and buffered I/O through the ring works.
     */
    @Test
    void directFallsBackToBufferedWhereTheFileSystemRefusesIt() throws IOException {
        Path proc = Path.of("/proc/version");
        Assumptions.assumeTrue(Files.isReadable(proc), "no /proc/version here");
        try (NativeFile f = NativeFile.open(proc, false, true); Arena arena = Arena.ofConfined();
             IoUring ring = openRing(4)) {
            assertThat(f.isDirect()).as("O_DIRECT refused, buffered in effect").isFalse();
            assertThat(f.ioAlignment()).isEqualTo(1);
            assertThat(f.toString()).contains("buffered");
            MemorySegment buf = arena.allocate(64);
            ring.prepareRead(f.fd(), buf, 63, 0, 1); // the zeroed last byte ends the string
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 1);
            assertThat(r.res(1)).isPositive();
            assertThat(buf.getString(0)).startsWith("Linux version");
        }
    }

    @Test
    void aMissingFileFailsWithEnoentAndTheReason() {
        Path p = tmp.resolve("missing.dat");
        assertThatThrownBy(() -> NativeFile.open(p, false, true))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT))
                .hasMessageContaining(p.toString())
                .hasMessageContaining("ENOENT (No such file or directory)");
    }

    @Test
    void aDirectoryIsRefused() {
        assertThatThrownBy(() -> NativeFile.open(tmp, false, false))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EISDIR));
    }

    @Test
    void aClosedFileHandsOutNoFd() throws IOException {
        NativeFile f = NativeFile.create(tmp.resolve("c.dat"), 0, false);
        assertThat(f.fd()).isNotNegative();
        f.close();
        f.close();
        assertThat(f.fd()).isEqualTo(-1);
    }

    /** Read-only, and only where a block device is readable (root on a VM): reads its first block. */
    @Test
    void aBlockDeviceReportsSizeAndLogicalBlockSize() throws IOException {
        Path dev = Stream.of("/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda")
                .map(Path::of).filter(Files::isReadable).findFirst().orElse(null);
        Assumptions.assumeTrue(dev != null, "no readable block device here");
        NativeFile opened;
        try {
            opened = NativeFile.open(dev, false, true);
        } catch (ErrnoException e) {
            Assumptions.assumeTrue(e.errno() != Errno.EPERM && e.errno() != Errno.EACCES,
                    "not allowed to open " + dev + " here: " + e.getMessage());
            throw e;
        }
        try (NativeFile f = opened; Arena arena = Arena.ofConfined();
             IoUring ring = openRing(4)) {
            assertThat(f.isBlockDevice()).isTrue();
            assertThat(f.size()).isPositive();
            assertThat(f.logicalBlockSize()).isIn(512, 4096);
            assertThat(f.isDirect()).isTrue();
            assertThat(f.alignmentSource()).isEqualTo(NativeFile.AlignmentSource.BLKSSZGET);
            MemorySegment buf = IoBuffers.allocate(arena, 4096);
            ring.prepareRead(f.fd(), buf, 4096, 0, 1);
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 1);
            assertThat(r.res(1)).isEqualTo(4096);
        }
    }
}
