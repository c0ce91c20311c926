package io.keel.bdev;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's share of the bdev layer (SPDK's {@code bdev_mgr} channel): a cache of bdev_io objects in front
 * of the global pool, and the queue of callers waiting for one. Waiters are served when an io is freed on this
 * thread and, while any wait, by a poller that looks at the global pool (ios freed on other threads go there),
 * so a waiter never depends on an event that may not come (rule R6). Waiters still queued when the thread lets
 * go of its last channel are called back then (and the release is logged), never dropped: their submission
 * then fails on the released channel instead of waiting forever.
 */
final class BdevThreadCache {
    private static final Logger LOG = LoggerFactory.getLogger(BdevThreadCache.class);

    private final BdevIoPool pool;
    private final int cacheSize;
    private BdevIo cached;
    private int cachedCount;
    private BdevIoWaiter waitHead;
    private BdevIoWaiter waitTail;
    private int waiting;
    private long waitsTotal;
    private final Poller retry;
    private final IoBufChannel iobuf;
    private final KeelThread thread;
    private boolean destroyed;

    BdevThreadCache(BdevIoPool pool, int cacheSize, KeelThread thread, IoBuf buffers, BdevOptions options) {
        this.pool = pool;
        this.cacheSize = cacheSize;
        this.thread = thread;
        this.iobuf = buffers.channel("bdev", options.iobufSmallCacheSize(), options.iobufLargeCacheSize());
        this.retry = thread.registerPoller("bdev_io_wait_retry", this::retryWaiters);
        this.retry.pause();
    }

    BdevIo get() {
        BdevIo io = cached;
        if (io != null) {
            cached = io.next;
            io.next = null;
            cachedCount--;
            return io;
        }
        return pool.take();
    }

    /** A bdev_io for a virtual bdev's child I/O: never refused (see {@link BdevIoPool#makeOverflow}). */
    BdevIo getForChild() {
        BdevIo io = get();
        return io != null ? io : pool.makeOverflow();
    }

    void free(BdevIo io) {
        if (io.overflow) {
            pool.dropOverflow();
            return;
        }
        if (cachedCount < cacheSize) {
            io.next = cached;
            cached = io;
            cachedCount++;
        } else {
            pool.give(io);
        }
        if (waitHead != null) {
            serveOneWaiter();
        }
    }

    void queue(BdevIoWaiter w) {
        if (destroyed) {
            throw new IllegalStateException("bdev_io waiter queued on thread " + thread.name()
                    + " after its bdev channels were released");
        }
        if (w.queued) {
            throw new IllegalStateException("bdev_io waiter queued twice");
        }
        w.queued = true;
        w.next = null;
        if (waitTail == null) {
            waitHead = w;
        } else {
            waitTail.next = w;
        }
        waitTail = w;
        waiting++;
        waitsTotal++;
        pool.countWait();
        if (waiting == 1) {
            retry.resume();
        }
    }

    private void serveOneWaiter() {
        BdevIoWaiter w = waitHead;
        waitHead = w.next;
        if (waitHead == null) {
            waitTail = null;
            retry.pause();
        }
        w.next = null;
        w.queued = false;
        waiting--;
        w.ioAvailable();
    }

    /** While callers wait: serve one per io the global pool can give now. */
    private int retryWaiters() {
        int served = 0;
        while (waitHead != null && (cached != null || pool.available() > 0)) {
            serveOneWaiter();
            served++;
            if (served > 64) {
                break; // fairness with the thread's other work; the poller runs again next iteration
            }
        }
        return served > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    /** This thread's "bdev" iobuf channel (data buffers lent to reads). */
    IoBufChannel iobuf() {
        return iobuf;
    }

    void destroy() {
        destroyed = true;
        if (waiting > 0) {
            LOG.warn("bdev: thread {} released its bdev channels with {} caller(s) waiting for a bdev_io; calling "
                    + "them back (their submissions fail on the released channels)", thread.name(), waiting);
            while (waitHead != null) {
                serveOneWaiter();
            }
        }
        retry.unregister();
        iobuf.close();
        while (cached != null) {
            BdevIo io = cached;
            cached = io.next;
            io.next = null;
            pool.give(io);
        }
        cachedCount = 0;
    }

    int cached() {
        return cachedCount;
    }

    int waiting() {
        return waiting;
    }

    long waitsTotal() {
        return waitsTotal;
    }
}
