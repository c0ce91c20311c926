package io.keel.core.iobuf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The free buffers of a pool: a lock-free LIFO stack of buffer indices (Treiber's stack, intrusive: the
 * links live in an {@code int[]} indexed by buffer, so pushing and popping allocate nothing).
 *
 * <p>The head is one 64-bit word holding the top index (20 bits), the number of entries (21 bits) and a
 * stamp (23 bits) bumped by every change, so a compare-and-set fails if anything happened in between (no
 * ABA short of 2^23 operations while one thread sits between its read and its CAS). Unlike a ring queue, a
 * thread preempted in the middle of an operation never blocks the others, and a push can never find the
 * structure "full" while it holds fewer entries than its capacity. LIFO also reuses the warmest buffer first.
 */
final class IndexStack extends IndexStackPadded {
    static final int MAX_CAPACITY = 1 << 20;
    private static final int INDEX_BITS = 20;
    private static final int COUNT_BITS = 21;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final long COUNT_MASK = (1L << COUNT_BITS) - 1;
    private static final int STAMP_SHIFT = INDEX_BITS + COUNT_BITS;
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(IndexStackHead.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int capacity;
    private final int[] next;
    @SuppressWarnings("unused")
    private long r1, r2, r3, r4, r5, r6, r7;

    IndexStack(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity out of range: " + capacity);
        }
        this.capacity = capacity;
        this.next = new int[capacity];
    }

    /** Pushes {@code index} (0 ≤ index < capacity); false if the stack already holds capacity entries. Any thread. */
    boolean push(int index) {
        long h = (long) HEAD.getVolatile(this);
        while (true) {
            int n = count(h);
            if (n >= capacity) {
                return false;
            }
            next[index] = (int) (h & INDEX_MASK); // published by the CAS below
            long nh = pack(index, n + 1, stamp(h) + 1);
            long witness = (long) HEAD.compareAndExchange(this, h, nh);
            if (witness == h) {
                return true;
            }
            h = witness;
        }
    }

    /** Pops the most recently pushed index, or -1 if empty. Any thread. */
    int pop() {
        long h = (long) HEAD.getVolatile(this);
        while (true) {
            int n = count(h);
            if (n == 0) {
                return -1;
            }
            int top = (int) (h & INDEX_MASK);
            int below = next[top]; // may be stale if top was popped and pushed meanwhile: then the CAS fails
            long witness = (long) HEAD.compareAndExchange(this, h, pack(below, n - 1, stamp(h) + 1));
            if (witness == h) {
                return top;
            }
            h = witness;
        }
    }

    /** How many indices are on the stack (exact at the instant of the read). */
    int size() {
        return count((long) HEAD.getVolatile(this));
    }

    int capacity() {
        return capacity;
    }

    private static int count(long h) {
        return (int) ((h >>> INDEX_BITS) & COUNT_MASK);
    }

    private static long stamp(long h) {
        return h >>> STAMP_SHIFT;
    }

    private static long pack(int index, int count, long stamp) {
        return (stamp << STAMP_SHIFT) | ((long) count << INDEX_BITS) | (index & INDEX_MASK);
    }
}

/** Padding so that the contended head sits alone on its cache line. */
abstract class IndexStackPadLeft {
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7;
}

abstract class IndexStackHead extends IndexStackPadLeft {
    volatile long head;
}

abstract class IndexStackPadded extends IndexStackHead {
}
