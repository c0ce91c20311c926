package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.BLOCK;
import static io.keel.bdev.uring.UringTestSupport.openRing;
import static io.keel.bdev.uring.UringTestSupport.submitAndReapAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed I/O is a completion with {@code res = -errno}, never an exception, and it does not disturb the I/Os
 * submitted with it or the ring afterwards.
 */
class IoUringErrorCompletionTest {
    @TempDir
    Path tmp;

    @Test
    void readFromAnInvalidOrClosedFdCompletesWithEbadf() throws IOException {
        try (Arena arena = Arena.ofConfined(); IoUring ring = openRing(8)) {
            MemorySegment buf = IoBuffers.allocate(arena, BLOCK);
            NativeFile f = NativeFile.create(tmp.resolve("closed.dat"), BLOCK, false);
            f.close();
            assertThat(ring.prepareRead(-1, buf, BLOCK, 0, 1)).isTrue();
            assertThat(ring.prepareRead(999_999, buf, BLOCK, 0, 2)).isTrue(); // a number no file holds
            assertThat(ring.prepareWrite(f.fd(), buf, BLOCK, 0, 3)).isTrue(); // a closed NativeFile gives -1
            Recorder r = new Recorder();
            assertThat(ring.submit()).isEqualTo(3);
            submitAndReapAll(ring, r, 3);
            assertThat(r.res(1)).isEqualTo(-Errno.EBADF);
            assertThat(r.res(2)).isEqualTo(-Errno.EBADF);
            assertThat(r.res(3)).isEqualTo(-Errno.EBADF);
            assertThat(Errno.describe(r.res(1))).isEqualTo("EBADF (Bad file descriptor)");
        }
    }

    @Test
    void misalignedDirectIoCompletesWithEinvalAndGoodIoAroundItSucceeds() throws IOException {
        Path dir = UringTestSupport.directIoDir(tmp);
        Path file = Files.createTempFile(dir, "keel-uring-align", ".dat");
        // real data: O_DIRECT reads of a hole are served as zeros without any alignment check
        Files.write(file, new byte[16 * BLOCK]);
        try (Arena arena = Arena.ofConfined();
             NativeFile f = NativeFile.create(file, 16 * BLOCK, true);
             IoUring ring = openRing(8)) {
            assertThat(f.isDirect()).isTrue();
            MemorySegment buf = IoBuffers.allocate(arena, 4 * BLOCK);
            MemorySegment misalignedBuf = buf.asSlice(1, BLOCK);
            // one batch: good, bad offset, bad length, bad buffer address, good
            assertThat(ring.prepareRead(f.fd(), buf.asSlice(0, BLOCK), BLOCK, 0, 1)).isTrue();
            assertThat(ring.prepareRead(f.fd(), buf.asSlice(BLOCK, BLOCK), BLOCK, 100, 2)).isTrue();
            assertThat(ring.prepareRead(f.fd(), buf.asSlice(BLOCK, BLOCK), 100, BLOCK, 3)).isTrue();
            assertThat(ring.prepareRead(f.fd(), misalignedBuf, BLOCK, BLOCK, 4)).isTrue();
            assertThat(ring.prepareRead(f.fd(), buf.asSlice(3 * BLOCK, BLOCK), BLOCK, 2 * BLOCK, 5)).isTrue();
            assertThat(ring.submit()).as("every entry taken, failures included").isEqualTo(5);
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 5);
            assertThat(r.res(1)).isEqualTo(BLOCK);
            assertThat(r.res(2)).isEqualTo(-Errno.EINVAL);
            assertThat(r.res(3)).isEqualTo(-Errno.EINVAL);
            assertThat(r.res(4)).isEqualTo(-Errno.EINVAL);
            assertThat(r.res(5)).isEqualTo(BLOCK);

            // and the ring keeps working
            assertThat(ring.prepareWrite(f.fd(), buf.asSlice(0, BLOCK), BLOCK, 4 * BLOCK, 6)).isTrue();
            submitAndReapAll(ring, r, 6);
            assertThat(r.res(6)).isEqualTo(BLOCK);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void writeToAReadOnlyFileCompletesWithEbadfAndReadAtEndOfFileWithZero() throws IOException {
        Path file = tmp.resolve("ro.dat");
        NativeFile.create(file, 2 * BLOCK, false).close();
        try (Arena arena = Arena.ofConfined();
             NativeFile ro = NativeFile.open(file, false, false);
             IoUring ring = openRing(4)) {
            MemorySegment buf = IoBuffers.allocate(arena, BLOCK);
            ring.prepareWrite(ro.fd(), buf, BLOCK, 0, 1);
            ring.prepareRead(ro.fd(), buf, BLOCK, 2 * BLOCK, 2);
            ring.prepareRead(ro.fd(), buf, BLOCK, 2 * BLOCK - 512, 3);
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 3);
            assertThat(r.res(1)).isEqualTo(-Errno.EBADF);
            assertThat(r.res(2)).as("at end of file").isZero();
            assertThat(r.res(3)).as("short read across end of file").isEqualTo(512);
        }
    }

    @Test
    void heapAndOversizedBuffersAreRejectedBeforeTheKernel() {
        try (Arena arena = Arena.ofConfined(); IoUring ring = openRing(4)) {
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> ring.prepareRead(0, MemorySegment.ofArray(new byte[BLOCK]), BLOCK, 0, 1))
                    .withMessageContaining("native");
            MemorySegment small = IoBuffers.allocate(arena, 512);
            assertThatIllegalArgumentException().isThrownBy(() -> ring.prepareWrite(0, small, BLOCK, 0, 1));
            assertThat(ring.queued()).isZero();
        }
    }
}
