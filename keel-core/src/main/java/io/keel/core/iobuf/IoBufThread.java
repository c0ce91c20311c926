package io.keel.core.iobuf;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.util.ArrayList;

/**
 * The iobuf io_device's per-thread context: this thread's wait queues (one per pool, shared by every
 * module's channel here, as in SPDK), its channels, and the retry poller that re-drives the queues (rule R6).
 *
 * <p>The retry poller is timed ({@link IoBuf#retryPeriodMicros()}) and paused whenever both queues are
 * empty, so an idle thread costs nothing; the first waiter queued resumes it. Each run it serves queued
 * waiters from this thread's channel caches and then from the global pool, and while waiters remain it asks
 * channels on other threads that hold cached buffers of that size to give them back to the pool (buffers
 * freed elsewhere reach the global pool, never this thread's queue, so without this poller a waiter whose own
 * thread frees nothing would hang).
 */
final class IoBufThread {
    final IoBuf iobuf;
    final KeelThread thread;
    final WaitQueue small;
    final WaitQueue large;
    final ArrayList<IoBufChannel> channels = new ArrayList<>();
    private final Poller retryPoller;

    IoBufThread(IoBuf iobuf, KeelThread thread) {
        this.iobuf = iobuf;
        this.thread = thread;
        this.small = new WaitQueue(iobuf.smallPool);
        this.large = new WaitQueue(iobuf.largePool);
        this.retryPoller = thread.registerPoller("iobuf_retry", this::retry, iobuf.retryPeriodMicros());
        retryPoller.pause();
    }

    /** A waiter was queued: make sure the retry poller runs. */
    void waiterQueued() {
        if (retryPoller.state() == Poller.State.PAUSED) {
            retryPoller.resume();
        }
    }

    /** The retry poller's body. */
    private int retry() {
        if (iobuf.isFreed()) {
            retryPoller.pause();
            return PollerFn.IDLE;
        }
        int served = redrive(small) + redrive(large);
        boolean smallWaits = !small.isEmpty();
        boolean largeWaits = !large.isEmpty();
        if (!smallWaits && !largeWaits) {
            retryPoller.pause(); // nothing left to wait for: an idle thread stays at ~0% CPU
        }
        if (smallWaits) {
            iobuf.requestFlushes(iobuf.smallPool, thread);
        }
        if (largeWaits) {
            iobuf.requestFlushes(iobuf.largePool, thread);
        }
        return served > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    /** Serves queued waiters, oldest first, from this thread's caches and then the global pool. */
    int redrive(WaitQueue q) {
        int served = 0;
        while (!q.isEmpty()) {
            int index = takeCached(q.pool);
            if (index < 0) {
                index = q.pool.take();
                if (index < 0) {
                    break;
                }
            }
            IoBufWaiter w = q.removeFirst();
            deliver(q.pool, index, w);
            served++;
        }
        return served;
    }

    /** Hands a buffer to a waiter just removed from its queue. */
    static void deliver(BufferPool pool, int index, IoBufWaiter w) {
        IoBufChannel ch = w.channel;
        w.channel = null;
        ch.waiting--;
        pool.handOut(index);
        w.bufferReady(pool.buffers[index]);
    }

    private int takeCached(BufferPool pool) {
        for (int i = 0; i < channels.size(); i++) {
            int index = channels.get(i).cacheOf(pool).pop();
            if (index >= 0) {
                return index;
            }
        }
        return -1;
    }

    /** The io_channel is being destroyed (its last channel closed): stop the poller. */
    void destroy() {
        retryPoller.unregister();
    }
}
