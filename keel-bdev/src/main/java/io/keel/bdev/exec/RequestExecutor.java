package io.keel.bdev.exec;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.IoType;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the block requests of one queue (an NVMe-oF I/O queue, a virtqueue) against the bdev layer on its owner
 * thread, whatever the transport: the transport decodes and checks a request, picks the descriptor and this thread's
 * channel, submits it here with its own request object, and hears once through {@link RequestDone} how it ended.
 *
 * <p><b>Slots.</b> Each request in flight takes a slot made up front (one per queue entry): the slot is the bdev
 * completion callback and holds what a resubmission needs, so nothing is allocated per request. More requests than
 * slots (a transport that lets more in than its queue holds) get a new slot rather than fail.
 *
 * <p><b>Waiting for a bdev_io (rule R6).</b> A submission the bdev layer answers -ENOMEM waits, and the waiting
 * requests are re-driven in the order they began to wait ({@link IoWaitQueue}); a new request queues behind them.
 *
 * <p><b>Drain (rule R4).</b> {@link #drain} stops taking requests (new ones end {@link RequestStatus#CANCELLED} at
 * once), ends those still waiting for a bdev_io {@code CANCELLED} (they never reached the bdev), lets those at the
 * bdev finish, then tells the owner; a bound says when they are overdue.
 *
 * <p>A request's buffers (and a vector's array, and a range table) must stay as they are until it ends. Every
 * method runs on the owner thread.
 */
public final class RequestExecutor<C> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestExecutor.class);

    /** Where the executor is in its life. */
    public enum State { OPEN, DRAINING, DRAINED }

    private final KeelThread owner;
    private final String name;
    private final RequestDone<C> done;
    private final IoWaitQueue waiting = new IoWaitQueue();
    private RequestSlot[] free;
    private int freeCount;
    private int inFlight;
    private State state = State.OPEN;
    private final List<DrainListener> drainListeners = new ArrayList<>(1);
    private Poller drainBound;
    private long drainStartNanos;

    /**
     * An executor of {@code depth} slots on the calling thread; {@code name} names it in logs and its drain's poller.
     */
    public RequestExecutor(String name, int depth, RequestDone<C> done) {
        if (depth < 1) {
            throw new IllegalArgumentException("depth " + depth);
        }
        this.owner = KeelThread.current();
        if (owner == null) {
            throw new IllegalStateException("a request executor is created on its owner thread");
        }
        this.name = name;
        this.done = done;
        this.free = new RequestSlot[depth];
        for (int i = 0; i < depth; i++) {
            free[i] = new RequestSlot(this);
        }
        this.freeCount = depth;
    }

    // ---- submission: each request ends exactly once through RequestDone ----

    /** Reads {@code numBlocks} at {@code offsetBlocks} into the first bytes of {@code buf}. */
    public void read(C request, BdevDesc desc, BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks) {
        submit(request, IoType.READ, desc, ch, buf, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    /** Reads into the segments {@code iovs[0..iovCount)}, each used whole. */
    public void readv(C request, BdevDesc desc, BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks,
            long numBlocks) {
        submit(request, IoType.READ, desc, ch, null, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks);
    }

    /**
     * Reads into {@code count} pieces of memory with no view made of each, those at {@code first .. first+count-1} of
     * the arrays: piece {@code i} is {@code lengths[i]} bytes at {@code offsets[i]} in {@code bases[i]} (guest memory
     * regions: vhost's descriptors).
     */
    public void readv(C request, BdevDesc desc, BdevChannel ch, MemorySegment[] bases, long[] offsets, long[] lengths,
            int first, int count, long offsetBlocks, long numBlocks) {
        submit(request, IoType.READ, desc, ch, null, bases, offsets, lengths, first, count, offsetBlocks, numBlocks);
    }

    /** Writes the first bytes of {@code buf}. */
    public void write(C request, BdevDesc desc, BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks) {
        submit(request, IoType.WRITE, desc, ch, buf, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    /** Writes the segments {@code iovs[0..iovCount)}, each used whole. */
    public void writev(C request, BdevDesc desc, BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks,
            long numBlocks) {
        submit(request, IoType.WRITE, desc, ch, null, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks);
    }

    /** Writes {@code count} pieces of memory, as the pieces {@code readv} reads into. */
    public void writev(C request, BdevDesc desc, BdevChannel ch, MemorySegment[] bases, long[] offsets, long[] lengths,
            int first, int count, long offsetBlocks, long numBlocks) {
        submit(request, IoType.WRITE, desc, ch, null, bases, offsets, lengths, first, count, offsetBlocks, numBlocks);
    }

    /** Compares the blocks with the first bytes of {@code buf} ({@link RequestStatus#MISCOMPARE} when they differ). */
    public void compare(C request, BdevDesc desc, BdevChannel ch, MemorySegment buf, long offsetBlocks,
            long numBlocks) {
        submit(request, IoType.COMPARE, desc, ch, buf, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    /** Compares the blocks with the segments {@code iovs[0..iovCount)}, each used whole. */
    public void comparev(C request, BdevDesc desc, BdevChannel ch, MemorySegment[] iovs, int iovCount,
            long offsetBlocks, long numBlocks) {
        submit(request, IoType.COMPARE, desc, ch, null, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks);
    }

    public void writeZeroes(C request, BdevDesc desc, BdevChannel ch, long offsetBlocks, long numBlocks) {
        submit(request, IoType.WRITE_ZEROES, desc, ch, null, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    public void unmap(C request, BdevDesc desc, BdevChannel ch, long offsetBlocks, long numBlocks) {
        submit(request, IoType.UNMAP, desc, ch, null, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    public void flush(C request, BdevDesc desc, BdevChannel ch, long offsetBlocks, long numBlocks) {
        submit(request, IoType.FLUSH, desc, ch, null, null, null, null, 0, 0, offsetBlocks, numBlocks);
    }

    /**
     * Unmaps each non-empty entry of {@code table} ({@code count} entries read through {@code format}), one after
     * another; the first failure ends the request, and so does the last success.
     */
    public void unmap(C request, BdevDesc desc, BdevChannel ch, MemorySegment table, int count, BlockRanges format) {
        submitRanges(request, IoType.UNMAP, desc, ch, table, count, format);
    }

    /** Writes zeroes over each non-empty entry of {@code table}, one after another, as the ranged unmap does. */
    public void writeZeroes(C request, BdevDesc desc, BdevChannel ch, MemorySegment table, int count,
            BlockRanges format) {
        submitRanges(request, IoType.WRITE_ZEROES, desc, ch, table, count, format);
    }

    private void submit(C request, IoType type, BdevDesc desc, BdevChannel ch, MemorySegment buf,
            MemorySegment[] iovs, long[] iovOffsets, long[] iovLengths, int iovFirst, int iovCount, long offsetBlocks,
            long numBlocks) {
        RequestSlot s = take(request);
        if (s != null) {
            s.set(type, desc, ch, buf, iovs, iovOffsets, iovLengths, iovFirst, iovCount, offsetBlocks, numBlocks);
            start(s);
        }
    }

    private void submitRanges(C request, IoType type, BdevDesc desc, BdevChannel ch, MemorySegment table, int count,
            BlockRanges format) {
        RequestSlot s = take(request);
        if (s != null) {
            s.setRanges(type, desc, ch, table, count, format);
            s.nextRange();
        }
    }

    /** A slot for {@code request}, or null when the executor no longer takes requests (then it has ended). */
    private RequestSlot take(C request) {
        if (KeelThread.current() != owner) {
            throw new IllegalStateException("request executor " + name + " of " + owner.name()
                    + " used on another thread");
        }
        if (state != State.OPEN) {
            done.requestDone(request, RequestStatus.CANCELLED, 0);
            return null;
        }
        RequestSlot s;
        if (freeCount > 0) {
            s = free[--freeCount];
            free[freeCount] = null;
        } else {
            s = new RequestSlot(this);
        }
        inFlight++;
        s.request = request;
        return s;
    }

    /** Submits {@code s}'s next I/O, or makes it wait for a bdev_io behind those waiting already. */
    void start(RequestSlot s) {
        if (!waiting.isEmpty() || !s.submit()) {
            waiting.add(s);
        }
    }

    /** Frees {@code s}, then tells the transport how its request ended (it may submit again from there). */
    @SuppressWarnings("unchecked")
    void finish(RequestSlot s, RequestStatus status, int detail) {
        C request = (C) s.request;
        s.clear();
        inFlight--;
        if (freeCount == free.length) {
            RequestSlot[] bigger = new RequestSlot[free.length * 2];
            System.arraycopy(free, 0, bigger, 0, freeCount);
            free = bigger;
        }
        free[freeCount++] = s;
        done.requestDone(request, status, detail);
        if (inFlight == 0 && state == State.DRAINING) {
            drained();
        }
    }

    // ---- drain ----

    /**
     * Stops taking requests, ends those waiting for a bdev_io {@link RequestStatus#CANCELLED}, and tells
     * {@code listener} once the rest, at the bdev layer, have ended — at once if none is. If some are still there
     * {@code boundNanos} after the first drain began, it is logged and the listener told so
     * ({@link DrainListener#drainOverdue}). Draining again is defined: the listener hears with the first one's.
     */
    public void drain(long boundNanos, DrainListener listener) {
        if (KeelThread.current() != owner) {
            throw new IllegalStateException("request executor " + name + " drained on another thread");
        }
        if (boundNanos <= 0) {
            throw new IllegalArgumentException("drain bound " + boundNanos);
        }
        switch (state) {
            case DRAINED -> {
                listener.drained();
                return;
            }
            case DRAINING -> {
                drainListeners.add(listener);
                return;
            }
            case OPEN -> {
                state = State.DRAINING;
                drainListeners.add(listener);
            }
        }
        for (RequestSlot s = waiting.takeAll(); s != null; ) {
            RequestSlot cancelled = s;
            s = s.nextWaiting;
            cancelled.nextWaiting = null;
            finish(cancelled, RequestStatus.CANCELLED, 0);
        }
        if (inFlight == 0) {
            if (state == State.DRAINING) { // not already ended by the last cancelled request
                drained();
            }
            return;
        }
        if (owner.state() == KeelThread.State.RUNNING) { // an exiting thread has its own bound on what it holds
            drainStartNanos = owner.runtime().clock().nanoTime();
            drainBound = owner.registerPoller(name + "_drain_bound", this::drainOverdue,
                    Math.max(1, boundNanos / 1000));
        }
    }

    private int drainOverdue() {
        drainBound.unregister();
        drainBound = null;
        long ms = (owner.runtime().clock().nanoTime() - drainStartNanos) / 1_000_000;
        LOG.warn("{} on {}: {} request(s) still at the bdev layer {} ms after the drain began; waiting for them",
                name, owner.name(), inFlight, ms);
        for (DrainListener l : List.copyOf(drainListeners)) {
            l.drainOverdue(inFlight);
        }
        return PollerFn.BUSY;
    }

    private void drained() {
        state = State.DRAINED;
        if (drainBound != null) {
            drainBound.unregister();
            drainBound = null;
        }
        List<DrainListener> listeners = List.copyOf(drainListeners);
        drainListeners.clear();
        listeners.forEach(DrainListener::drained);
    }

    // ---- statistics (owner thread) ----

    public State state() {
        return state;
    }

    /** Requests taken and not yet ended, waiting ones included. */
    public int inFlight() {
        return inFlight;
    }

    /** Requests waiting for a bdev_io now (SPDK's pending_bdev_io). */
    public int waitingForBdevIo() {
        return waiting.size();
    }

    /** Times a request waited for a bdev_io (rule R6 statistics). */
    public long ioWaits() {
        return waiting.waits();
    }
}
