package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** A child I/O's segments are views of a byte range of its parent's, and the data helpers honour their offsets. */
class BdevIoPartTest {
    @Test
    void aPartTakesTheParentsBytesFromAnOffsetAcrossSegments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(1024);
            MemorySegment b = arena.allocate(512);
            MemorySegment c = arena.allocate(2048);
            BdevIo parent = new BdevIo();
            parent.addIov(a, 1024);
            parent.addIov(b, 512);
            parent.addIov(c, 2048);

            BdevIo part = new BdevIo();
            assertThat(part.addIovsOf(parent, 768, 1024)).isTrue(); // 256 of a, all of b, 256 of c
            assertThat(part.iovCount()).isEqualTo(3);
            assertThat(part.iov(0)).isSameAs(a);
            assertThat(part.iovOffset(0)).isEqualTo(768);
            assertThat(part.iovLength(0)).isEqualTo(256);
            assertThat(part.iovOffset(1)).isZero();
            assertThat(part.iovLength(1)).isEqualTo(512);
            assertThat(part.iov(2)).isSameAs(c);
            assertThat(part.iovLength(2)).isEqualTo(256);

            MemorySegment src = arena.allocate(1024);
            for (int i = 0; i < 1024; i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13 + 1));
            }
            part.copyToBuffers(src, 0); // a read landing in the part's view of the parent's buffers
            assertThat(a.asSlice(768).mismatch(src.asSlice(0, 256))).isEqualTo(-1);
            assertThat(b.mismatch(src.asSlice(256, 512))).isEqualTo(-1);
            assertThat(c.asSlice(0, 256).mismatch(src.asSlice(768, 256))).isEqualTo(-1);
            assertThat(c.get(ValueLayout.JAVA_BYTE, 256)).isZero();
            assertThat(part.buffersEqual(src, 0)).isTrue();
            MemorySegment back = arena.allocate(1024);
            part.copyFromBuffers(back, 0);
            assertThat(back.mismatch(src)).isEqualTo(-1);
            part.zeroBuffers();
            assertThat(a.get(ValueLayout.JAVA_BYTE, 767)).isZero();
            assertThat(part.buffersEqual(arena.allocate(1024), 0)).isTrue();

            BdevIo tooMany = new BdevIo();
            BdevIo many = new BdevIo();
            for (int i = 0; i < BdevIo.MAX_IOVS; i++) {
                many.addIov(arena.allocate(8), 8);
            }
            for (int i = 0; i < BdevIo.MAX_IOVS - 1; i++) {
                tooMany.addIov(arena.allocate(8), 8);
            }
            assertThat(tooMany.addIovsOf(many, 0, 16)).as("past MAX_IOVS").isFalse();
            BdevIo shortParent = new BdevIo();
            assertThat(shortParent.addIovsOf(parent, 3000, 1000)).as("past the parent's end").isFalse();
        }
    }
}
