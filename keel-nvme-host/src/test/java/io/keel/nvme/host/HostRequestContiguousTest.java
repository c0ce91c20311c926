package io.keel.nvme.host;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.spec.Sqe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The other half of the zero-copy decision: a transport can point a device at a command's data only when it is one
 * run of native memory. One segment, or segments that follow each other in memory, are; scattered segments and heap
 * memory are not (they are copied).
 */
class HostRequestContiguousTest {
    @Test
    void oneNativeSegmentIsOneRun() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8192, 4096);
            HostRequest r = request(arena).segment(buf, 512, 4096);
            assertThat(r.contiguousAddress()).isEqualTo(buf.address() + 512);
        }
    }

    @Test
    void segmentsThatFollowEachOtherInMemoryAreOneRun() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16384, 4096);
            // as a bdev_io split at a boundary hands them over: slices and offsets into one buffer
            HostRequest r = request(arena).segment(buf.asSlice(0, 4096), 0, 4096).segment(buf, 4096, 2048)
                    .segment(buf.asSlice(6144), 0, 10240);
            assertThat(r.contiguousAddress()).isEqualTo(buf.address());
            assertThat(r.length()).isEqualTo(16384);
        }
    }

    @Test
    void scatteredSegmentsAreNot() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16384, 4096);
            assertThat(request(arena).segment(buf, 0, 4096).segment(buf, 8192, 4096).contiguousAddress())
                    .as("a gap").isEqualTo(-1);
            assertThat(request(arena).segment(buf, 4096, 4096).segment(buf, 0, 4096).contiguousAddress())
                    .as("out of order").isEqualTo(-1);
        }
    }

    @Test
    void heapMemoryAndNoDataAreNot() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment heap = MemorySegment.ofArray(new byte[4096]);
            assertThat(request(arena).segment(heap, 0, 4096).contiguousAddress()).isEqualTo(-1);
            MemorySegment buf = arena.allocate(4096, 4096);
            assertThat(request(arena).segment(buf, 0, 4096).segment(heap, 0, 4096).contiguousAddress()).isEqualTo(-1);
            assertThat(request(arena).contiguousAddress()).isEqualTo(-1);
        }
    }

    private static HostRequest request(Arena arena) {
        return new HostRequest(0, arena.allocate(Sqe.SIZE));
    }
}
