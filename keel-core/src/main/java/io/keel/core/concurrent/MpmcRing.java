package io.keel.core.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded, lock-free, allocation-free multi-producer multi-consumer queue (D. Vyukov's design: each slot
 * carries a sequence number that says whose turn it is). For pools shared by every thread: bdev_io objects,
 * data buffers. Needs no access to JDK internals (Agrona's queues do, which would impose --add-exports on
 * every JVM that runs Keel).
 *
 * <p>Give it slack: a producer that wraps onto a slot whose consumer has claimed it but not yet released it
 * sees the ring as full, so a ring meant to hold N items should have room for N plus the number of threads
 * that may take from it at once (twice N is simple and safe). {@link #poll()} can likewise miss an item
 * whose producer has claimed a slot and not yet published it; callers must tolerate a transient null.
 */
public final class MpmcRing<T> {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle ITEM = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(MpmcRing.class, "head", long.class);
            TAIL = l.findVarHandle(MpmcRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int mask;
    private final long[] sequences;
    private final Object[] items;
    @SuppressWarnings("unused") // through HEAD
    private volatile long head;
    @SuppressWarnings("unused") // through TAIL
    private volatile long tail;

    /** A ring of at least {@code capacity} slots (rounded up to a power of two). */
    public MpmcRing(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        int size = Integer.highestOneBit(capacity) == capacity ? capacity : Integer.highestOneBit(capacity) << 1;
        mask = size - 1;
        sequences = new long[size];
        items = new Object[size];
        for (int i = 0; i < size; i++) {
            sequences[i] = i;
        }
    }

    /** Adds {@code item}; false if the ring is full. */
    public boolean offer(T item) {
        while (true) {
            long pos = tail;
            int slot = (int) pos & mask;
            long diff = (long) SEQ.getAcquire(sequences, slot) - pos;
            if (diff == 0) {
                if (TAIL.compareAndSet(this, pos, pos + 1)) {
                    ITEM.setRelease(items, slot, item);
                    SEQ.setRelease(sequences, slot, pos + 1);
                    return true;
                }
            } else if (diff < 0) {
                return false;
            }
        }
    }

    /** Takes the oldest item; null if the ring is empty. */
    @SuppressWarnings("unchecked")
    public T poll() {
        while (true) {
            long pos = head;
            int slot = (int) pos & mask;
            long diff = (long) SEQ.getAcquire(sequences, slot) - (pos + 1);
            if (diff == 0) {
                if (HEAD.compareAndSet(this, pos, pos + 1)) {
                    T item = (T) ITEM.getAcquire(items, slot);
                    ITEM.setRelease(items, slot, null);
                    SEQ.setRelease(sequences, slot, pos + mask + 1);
                    return item;
                }
            } else if (diff < 0) {
                return null;
            }
        }
    }

    /** Items queued now (a snapshot). */
    public int size() {
        return (int) Math.max(0, Math.min(tail - head, mask + 1));
    }

    public int capacity() {
        return mask + 1;
    }
}
