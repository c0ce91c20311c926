package io.keel.core.mem;

import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;

/**
 * Native memory that comes and goes with one object (a connection, a session, one superblock write), freed when
 * its owner closes it: what a shared {@link java.lang.foreign.Arena} would hold, without its price. Closing a
 * shared arena makes the JVM handshake with every thread, which waits until each has reached a safepoint; on this
 * machine kind that took 0.17 ms at the median and 5-20 ms at the tail under load (a reactor stall per close, and
 * the watchdog saw 118 ms at startup), while a confined arena cannot be read by another thread. Here each
 * allocation is an {@code aligned_alloc} and {@link #close} {@code free}s them all: no handshake, no GC.
 *
 * <p>The price is the JVM's use-after-free check: the segments have no scope, so the owner closes the arena once
 * nothing uses its memory any more (its I/O has completed, its peer is gone) and drops its references, as C code
 * would. Memory is zeroed, as an arena's is. The owner thread allocates and closes; others may read and write.
 */
public final class NativeArena implements SegmentAllocator, AutoCloseable {
    private long[] blocks = new long[4];
    private int count;
    private boolean closed;

    /** {@code byteSize} zeroed bytes aligned to {@code byteAlignment} (a power of two), valid until {@link #close}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (closed) {
            throw new IllegalStateException("native arena already closed");
        }
        if (byteSize < 0 || byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1) {
            throw new IllegalArgumentException("size " + byteSize + ", alignment " + byteAlignment);
        }
        long alignment = Math.max(byteAlignment, 16);
        long rounded = Math.max(alignment, (byteSize + alignment - 1) & -alignment); // C11: a multiple of it
        MemorySegment p;
        try {
            p = (MemorySegment) Libc.ALIGNED_ALLOC.invokeExact(alignment, rounded);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (p.address() == 0) {
            throw new OutOfMemoryError("aligned_alloc of " + rounded + " bytes failed");
        }
        if (count == blocks.length) {
            blocks = Arrays.copyOf(blocks, count * 2);
        }
        blocks[count++] = p.address();
        MemorySegment s = p.reinterpret(byteSize);
        s.fill((byte) 0);
        return s;
    }

    /** Frees every block; the segments handed out must not be used after. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < count; i++) {
            try {
                Libc.FREE.invokeExact(MemorySegment.ofAddress(blocks[i]));
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
        }
        count = 0;
    }

    public boolean isClosed() {
        return closed;
    }
}
