package io.keel.nvmf.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The send buffer under a socket that takes a few bytes at a time: order kept, buffers given back once sent. */
class SendBufferTest {
    /** A channel that takes at most {@code max} bytes per write (a full socket buffer). */
    static final class TrickleChannel implements GatheringByteChannel {
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        int max;

        TrickleChannel(int max) {
            this.max = max;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            int n = 0;
            for (int i = offset; i < offset + length && n < max; i++) {
                while (srcs[i].hasRemaining() && n < max) {
                    taken.write(srcs[i].get());
                    n++;
                }
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            return (int) write(new ByteBuffer[] {src});
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** Records what is given back. */
    static final class Owner implements BufferProvider {
        final List<MemorySegment> released = new ArrayList<>();

        @Override
        public MemorySegment acquire(long length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void release(MemorySegment buffer) {
            released.add(buffer);
        }

        @Override
        public ByteBuffer nioView(MemorySegment buffer) {
            return buffer.asByteBuffer();
        }
    }

    private final QueueMemory memory = new QueueMemory(1 << 30);

    @Test
    void inlineAndReferencedBytesLeaveInOrderThroughPartialWrites() throws Exception {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int max : new int[] {1, 3, 17, 1000, 1 << 20}) {
                SendBuffer out = new SendBuffer(memory, memory.takeForSocket(64, false), 1 << 20, () -> { });
                Owner owner = new Owner();
                TrickleChannel ch = new TrickleChannel(max);
                ByteArrayOutputStream expected = new ByteArrayOutputStream();
                List<MemorySegment> refs = new ArrayList<>();
                for (int round = 0; round < 40; round++) {
                    byte[] inline = new byte[1 + rnd.nextInt(100)];
                    rnd.nextBytes(inline);
                    long off = out.claim(inline.length);
                    MemorySegment.copy(MemorySegment.ofArray(inline), 0, out.buffer(), off, inline.length);
                    out.commit(off, inline.length);
                    expected.write(inline);
                    if (rnd.nextBoolean()) {
                        byte[] data = new byte[1 + rnd.nextInt(300)];
                        rnd.nextBytes(data);
                        MemorySegment seg = arena.allocate(data.length);
                        MemorySegment.copy(MemorySegment.ofArray(data), 0, seg, 0, data.length);
                        out.appendReference(seg, owner);
                        refs.add(seg);
                        expected.write(data);
                    }
                    if (rnd.nextInt(3) == 0) {
                        out.flush(ch);
                        int written = ch.taken.size();
                        // a buffer is given back only when everything up to its end has been written
                        assertThat(owner.released.size()).isLessThanOrEqualTo(refs.size());
                        assertThat(written).isLessThanOrEqualTo(expected.size());
                    }
                }
                while (out.pending() > 0) {
                    out.flush(ch);
                }
                assertThat(ch.taken.toByteArray()).as("max " + max).isEqualTo(expected.toByteArray());
                assertThat(owner.released).containsExactlyElementsOf(refs);
                out.close();
                assertThat(memory.inUse()).as("the grown buffer went back to the pool").isZero();
            }
        }
    }

    @Test
    void discardGivesReferencedBuffersBackUnsent() {
        try (Arena arena = Arena.ofConfined()) {
            SendBuffer out = new SendBuffer(memory, memory.takeForSocket(64, false), 1 << 20, () -> { });
            Owner owner = new Owner();
            MemorySegment a = arena.allocate(10);
            MemorySegment b = arena.allocate(20);
            out.appendReference(a, owner);
            out.appendReference(b, owner);
            assertThat(out.pending()).isEqualTo(30);
            out.discard();
            assertThat(owner.released).containsExactly(a, b);
            assertThat(out.pending()).isZero();
        }
    }
}
