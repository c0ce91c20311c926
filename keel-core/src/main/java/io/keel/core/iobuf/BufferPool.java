package io.keel.core.iobuf;

import io.keel.core.mem.NativeArena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * One global pool (small or large): {@code count} buffers of {@code bufsize} bytes, slices of one region,
 * and a bounded lock-free stack of the free ones' indices. Every buffer is a pre-made {@link MemorySegment},
 * so taking and giving back allocate nothing. Each buffer is marked while a client holds it, which catches a
 * double free and a buffer that was never handed out.
 */
final class BufferPool {
    final String name;
    final int bufsize;
    final int count;
    final MemorySegment[] buffers;
    /** Every buffer of the pool: one contiguous region. */
    final MemorySegment region;
    /** Threads whose wait queue for this pool is not empty; while positive, freed buffers skip the caches. */
    final AtomicInteger starvingThreads = new AtomicInteger();
    private final long base;
    private final long end;
    private final IndexStack free;
    private final AtomicIntegerArray handedOut;

    BufferPool(String name, NativeArena arena, int count, int bufsize) {
        this.name = name;
        this.bufsize = bufsize;
        this.count = count;
        // mapped, not allocateDirect: the kernel gives zeroed pages as they are first touched, so the pool costs
        // memory for the buffers in use, not for all of it at start (allocateDirect zeroed ~200 MB up front)
        this.region = arena.map((long) count * bufsize, IoBuf.ALIGNMENT, false);
        this.base = region.address();
        this.end = base + region.byteSize();
        this.buffers = new MemorySegment[count];
        this.free = new IndexStack(count);
        this.handedOut = new AtomicIntegerArray(count);
        for (int i = 0; i < count; i++) {
            buffers[i] = region.asSlice((long) i * bufsize, bufsize);
        }
        for (int i = count - 1; i >= 0; i--) {
            free.push(i); // the lowest addresses on top
        }
    }

    /** A free buffer's index from the global pool, or -1. Any thread. */
    int take() {
        return free.pop();
    }

    /** Returns a free buffer to the global pool. Any thread. */
    void give(int index) {
        if (!free.push(index)) {
            throw new IllegalStateException(name + " iobuf pool overfilled: buffer " + index + " returned twice");
        }
    }

    /** The index of the buffer that contains {@code seg} (the buffer itself or a slice of it), or -1. */
    int indexOf(MemorySegment seg) {
        if (!seg.isNative()) {
            return -1;
        }
        long a = seg.address();
        if (a < base || a >= end) {
            return -1;
        }
        int index = (int) ((a - base) / bufsize);
        if (a + seg.byteSize() > base + (long) (index + 1) * bufsize) {
            throw new IllegalArgumentException("segment at 0x" + Long.toHexString(a) + " of " + seg.byteSize()
                    + " bytes spans more than one " + name + " iobuf buffer");
        }
        return index;
    }

    /** Marks a buffer as held by a client. */
    void handOut(int index) {
        handedOut.setRelease(index, 1);
    }

    /** Marks a buffer as no longer held; false if it was not held (freed twice). */
    boolean takeBack(int index) {
        return handedOut.compareAndSet(index, 1, 0);
    }

    /** Free buffers in the global pool (a snapshot). */
    int available() {
        return free.size();
    }
}
