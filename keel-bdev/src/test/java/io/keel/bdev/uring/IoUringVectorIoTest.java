package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.fillPattern;
import static io.keel.bdev.uring.UringTestSupport.openRing;
import static io.keel.bdev.uring.UringTestSupport.submitAndReapAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scattered request (a bdev_io with several iovecs) goes out as one writev and comes back as one readv. */
class IoUringVectorIoTest {
    @TempDir
    Path tmp;

    @Test
    void writevGathersAndReadvScatters() throws IOException {
        try (Arena arena = Arena.ofConfined();
             NativeFile f = NativeFile.create(tmp.resolve("vec.dat"), 64 * 1024, false);
             IoUring ring = openRing(8)) {
            MemorySegment a = IoBuffers.allocate(arena, 4096);
            MemorySegment b = IoBuffers.allocate(arena, 8192);
            MemorySegment c = IoBuffers.allocate(arena, 4096);
            fillPattern(a, 1);
            fillPattern(b, 2);
            fillPattern(c, 3);
            IoVecArray out = IoVecArray.allocate(arena, 4).set(0, a, 4096).set(1, b, 8192).set(2, c, 4096);
            assertThat(ring.prepareWritev(f.fd(), out, 3, 8192, 1)).isTrue();
            Recorder w = new Recorder();
            submitAndReapAll(ring, w, 1);
            assertThat(w.res(1)).isEqualTo(16384);

            // read the same 16 KiB back into two differently sized buffers
            MemorySegment x = IoBuffers.allocate(arena, 6144);
            MemorySegment y = IoBuffers.allocate(arena, 10240);
            IoVecArray in = IoVecArray.allocate(arena, 2).set(0, x, 6144).set(1, y, 10240);
            assertThat(ring.prepareReadv(f.fd(), in, 2, 8192, 2)).isTrue();
            Recorder r = new Recorder();
            submitAndReapAll(ring, r, 1);
            assertThat(r.res(2)).isEqualTo(16384);

            MemorySegment expected = arena.allocate(16384);
            expected.asSlice(0, 4096).copyFrom(a);
            expected.asSlice(4096, 8192).copyFrom(b);
            expected.asSlice(12288, 4096).copyFrom(c);
            MemorySegment actual = arena.allocate(16384);
            actual.asSlice(0, 6144).copyFrom(x);
            actual.asSlice(6144, 10240).copyFrom(y);
            assertThat(actual.mismatch(expected)).isEqualTo(-1L);
            assertThat(in.length(1)).isEqualTo(10240);
            assertThat(in.base(0)).isEqualTo(x.address());
        }
    }
}
