package io.keel.bdev;

import io.keel.core.concurrent.MpmcRing;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The global, bounded pool of bdev_io objects ({@code bdev_io_pool_size}); threads keep a cache of their own in
 * front of it ({@link BdevThreadCache}). Objects are made on first need, up to the bound, rather than all at
 * start (65,535 of them would stall the application thread for a few hundred milliseconds); once made they
 * circulate for good, so the steady state allocates nothing. Lock-free.
 */
final class BdevIoPool {
    private final MpmcRing<BdevIo> free;
    private final int size;
    private final AtomicInteger made = new AtomicInteger();
    /** Times a caller found the pool dry and queued to wait (the slow path only, so a shared counter is fine). */
    private final java.util.concurrent.atomic.AtomicLong waits = new java.util.concurrent.atomic.AtomicLong();

    BdevIoPool(int size) {
        this.size = size;
        this.free = new MpmcRing<>(2 * size); // slack: a ring exactly as large as its items can report full
                                              // while a consumer is still releasing the slot a producer needs
    }

    BdevIo take() {
        BdevIo io = free.poll();
        if (io != null) {
            return io;
        }
        int n = made.get();
        while (n < size) {
            if (made.compareAndSet(n, n + 1)) {
                return new BdevIo();
            }
            n = made.get();
        }
        return null;
    }

    void give(BdevIo io) {
        if (!free.offer(io)) {
            throw new IllegalStateException("bdev_io pool overfilled: an io was freed twice");
        }
    }

    private final AtomicInteger overflowOut = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong overflowMade = new java.util.concurrent.atomic.AtomicLong();

    /**
     * A bdev_io beyond the bound, for a child I/O of a virtual bdev when the pool is dry. Without it a stack
     * deadlocks under exhaustion: every pooled io is held by a parent waiting for its child, and no child can
     * get one. Each parent has at most one child outstanding per level, so these stay few; they are dropped,
     * not pooled, when freed. The one allocation the layer makes after warm-up, and only on this path.
     */
    BdevIo makeOverflow() {
        overflowMade.incrementAndGet();
        overflowOut.incrementAndGet();
        BdevIo io = new BdevIo();
        io.overflow = true;
        return io;
    }

    void dropOverflow() {
        overflowOut.decrementAndGet();
    }

    long overflowMade() {
        return overflowMade.get();
    }

    void countWait() {
        waits.incrementAndGet();
    }

    long waits() {
        return waits.get();
    }

    int size() {
        return size;
    }

    /** bdev_io objects a thread could take now: in the pool, or not yet made. */
    int available() {
        return free.size() + size - made.get();
    }
}
