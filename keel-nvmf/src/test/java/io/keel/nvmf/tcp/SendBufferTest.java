package io.keel.nvmf.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.GatherSend;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The send buffer under a socket that takes a few bytes at a time: order kept, buffers given back once sent. */
class SendBufferTest {
    /** A socket that takes at most {@code max} bytes per send (a full socket buffer), from the pieces in order. */
    static final class TrickleSocket implements SendBuffer.Sender {
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        final int max;

        TrickleSocket(int max) {
            this.max = max;
        }

        @Override
        public long send(GatherSend pieces) {
            MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
            long n = 0;
            for (int i = 0; i < pieces.count() && n < max; i++) {
                long take = Math.min(pieces.length(i), max - n);
                for (long b = 0; b < take; b++) {
                    taken.write(all.get(ValueLayout.JAVA_BYTE, pieces.address(i) + b));
                }
                n += take;
            }
            return n;
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

    }

    private final QueueMemory memory = new QueueMemory(1 << 30);
    private final Arena piecesArena = Arena.ofConfined();
    /** Few pieces, so a flush often sends only a prefix of what waits. */
    private final GatherSend pieces = new GatherSend(piecesArena, 5);

    @AfterEach
    void freePieces() {
        piecesArena.close();
    }

    @Test
    void inlineAndReferencedBytesLeaveInOrderThroughPartialWrites() throws Exception {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int max : new int[] {1, 3, 17, 1000, 1 << 20}) {
                SendBuffer out = new SendBuffer(memory, memory.take(64, false), 1 << 20, () -> { });
                Owner owner = new Owner();
                TrickleSocket ch = new TrickleSocket(max);
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
                        out.flush(pieces, ch);
                        int written = ch.taken.size();
                        // a buffer is given back only when everything up to its end has been written
                        assertThat(owner.released.size()).isLessThanOrEqualTo(refs.size());
                        assertThat(written).isLessThanOrEqualTo(expected.size());
                    }
                }
                while (out.pending() > 0) {
                    out.flush(pieces, ch);
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
            SendBuffer out = new SendBuffer(memory, memory.take(64, false), 1 << 20, () -> { });
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
