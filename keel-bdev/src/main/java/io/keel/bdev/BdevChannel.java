package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's channel to one bdev (SPDK's {@code spdk_bdev_channel}): it validates and submits I/O, counts
 * statistics, re-drives I/O its module bounced with NOMEM — on every completion and, while any wait, on
 * every poll (rule R6) — and holds back writes that overlap an LBA range lock ({@link ChannelRangeLocks}). Owner
 * thread only.
 *
 * <p><b>Release.</b> When the last reference is put with I/O still outstanding, the channel is never freed
 * under it: what waits parked after a NOMEM or held back by a range lock is completed ABORTED at once (as SPDK's
 * {@code bdev_channel_destroy} aborts its {@code nomem_io}), the range locks taken through it are released (or
 * cancelled), and the channel keeps its module channel (a uring ring, its iovecs and bounce buffers) and its
 * bdev_io cache until the module has completed the rest and those locks are off every channel. New
 * submissions are refused with -EBADF meanwhile. A release still waiting after
 * {@link io.keel.core.thread.KeelThread#RELEASE_REPORT_NANOS} is logged as an error naming the bdev, the thread
 * and the count; the bdev's removal and the thread's exit then fail at their own bounds, naming this channel.
 */
public final class BdevChannel {
    private static final Logger LOG = LoggerFactory.getLogger(BdevChannel.class);
    private static final MessageFn<BdevIo> COMPLETE_LATER = io -> io.channel().finish(io);

    private final Bdev bdev;
    private final BdevLayer layer;
    private final KeelThread thread;
    private final IoChannel<?> moduleChannel;
    private final IoChannel<BdevThreadCache> cacheChannel;
    private final BdevThreadCache cache;
    final IoStats stats = new IoStats();
    private final BdevIoQueue nomem = new BdevIoQueue();
    private long nomemTotal;
    private final ChannelRangeLocks rangeLocks;
    private int outstanding;
    private boolean inSubmit;
    /** Set once the last reference is put; runs when no I/O is outstanding and no range lock of its own is left. */
    private Runnable onReleased;
    /** Set by the release and never cleared: a released channel refuses submissions for good (-EBADF). */
    private boolean releasing;
    private final Poller nomemRetry;

    BdevChannel(Bdev bdev, KeelThread thread) {
        this.bdev = bdev;
        this.layer = BdevLayer.of(bdev);
        this.thread = thread;
        this.moduleChannel = thread.getIoChannel(bdev.moduleDevice());
        this.cacheChannel = thread.getIoChannel(layer.threadCaches());
        this.cache = cacheChannel.context();
        this.nomemRetry = thread.registerPoller("bdev_nomem_retry_" + bdev.name(), this::retryNomem);
        this.nomemRetry.pause();
        this.rangeLocks = new ChannelRangeLocks(this, bdev.rangeLocks()); // last: nothing after it can fail
    }

    /**
     * The bdev's io_device release: aborts what is parked (after a NOMEM, or held back by a range lock), lets go of
     * this channel's range locks, then ends once nothing is outstanding and those locks are off every channel.
     */
    void release(Runnable released) {
        releasing = true;
        abortNomem();
        rangeLocks.channelReleasing();
        onReleased = released; // only now: the aborted completions above must not end the release half-way
        maybeFinishRelease();
    }

    private void abortNomem() {
        nomemRetry.pause();
        for (BdevIo io = nomem.takeAll(); io != null; ) { // detached first, so no completion below re-drives the rest
            BdevIo aborted = io;
            io = BdevIoQueue.unlink(io);
            aborted.complete(BdevIoStatus.ABORTED); // finish(): the caller hears of it now
        }
    }

    private void maybeFinishRelease() {
        if (onReleased != null && outstanding == 0 && rangeLocks.settled()) {
            finishRelease();
        }
    }

    private void finishRelease() {
        Runnable released = onReleased;
        onReleased = null;
        nomemRetry.unregister();
        moduleChannel.put();
        cacheChannel.put();
        bdev.rangeLocks().leave(this);
        bdev.retiring.add(new Bdev.RetiredChannel(this, stats.copy())); // before this thread leaves the holders
        released.run();
    }

    /** One of this channel's range locks is over; a release waiting for it may end. */
    void rangeLockEnded() {
        maybeFinishRelease();
    }

    // ---- submission ----

    /** Submits an I/O on one buffer (the common case: no segment array to fill). */
    int submitOne(BdevDesc desc, IoType type, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb,
            Object arg) {
        if (KeelThread.current() != thread) {
            throw new IllegalStateException("bdev channel of " + thread.name() + " used on another thread");
        }
        int rc = validateRange(desc, type, offsetBlocks, numBlocks);
        if (rc != 0) {
            return rc;
        }
        if (buf.byteSize() != numBlocks * bdev.blockSize()) {
            return -Errno.EINVAL;
        }
        BdevIo io = cache.get();
        if (io == null) {
            return -Errno.ENOMEM;
        }
        io.init(desc, this, type, offsetBlocks, numBlocks, cb, arg);
        io.addIov(buf, buf.byteSize());
        outstanding++;
        io.submitted(thread.workNanos());
        admit(io);
        return 0;
    }

    /**
     * Submits a child I/O (a virtual bdev's, to its base) carrying {@code parent}'s data from byte {@code from} on;
     * never refused for want of a bdev_io.
     */
    int submitChild(BdevDesc desc, BdevIo parent, IoType type, long from, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        if (KeelThread.current() != thread) {
            throw new IllegalStateException("bdev channel of " + thread.name() + " used on another thread");
        }
        int rc = validateRange(desc, type, offsetBlocks, numBlocks);
        if (rc != 0) {
            return rc;
        }
        long bytes = type.carriesData() ? numBlocks * bdev.blockSize() : 0;
        if (from < 0 || from + bytes > parent.lengthBytes() || (bytes > 0 && parent.iovCount() == 0)) {
            return -Errno.EINVAL;
        }
        BdevIo io = cache.getForChild();
        io.init(desc, this, type, offsetBlocks, numBlocks, cb, arg);
        if (!io.addIovsOf(parent, from, bytes)) {
            io.free();
            return -Errno.EINVAL;
        }
        outstanding++;
        io.submitted(thread.workNanos());
        admit(io);
        return 0;
    }

    /**
     * Submits an I/O of the segments {@code iovs[first .. first+iovCount)}; {@code offs} and {@code lens} (both null:
     * each segment whole) give where in each segment its bytes start and how many there are.
     */
    int submit(BdevDesc desc, IoType type, MemorySegment[] iovs, long[] offs, long[] lens, int first, int iovCount,
            long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        if (KeelThread.current() != thread) {
            throw new IllegalStateException("bdev channel of " + thread.name() + " used on another thread");
        }
        int rc = validate(desc, type, iovs, offs, lens, first, iovCount, offsetBlocks, numBlocks);
        if (rc != 0) {
            return rc;
        }
        BdevIo io = cache.get();
        if (io == null) {
            return -Errno.ENOMEM;
        }
        io.init(desc, this, type, offsetBlocks, numBlocks, cb, arg);
        if (lens != null) {
            io.lendIovs(iovs, offs, lens, first, iovCount);
        } else {
            for (int i = first, end = first + iovCount; i < end; i++) {
                io.addIov(iovs[i], iovs[i].byteSize());
            }
        }
        outstanding++;
        io.submitted(thread.workNanos());
        if (type == IoType.READ && iovCount == 0) {
            layer.readBuffer(this, io); // takes an iobuf buffer (maybe after a wait), then submits
        } else {
            admit(io);
        }
        return 0;
    }

    /** Starts {@code io}, unless it is a write a range lock holds back: that waits on this channel for the unlock. */
    private void admit(BdevIo io) {
        if (!io.type().modifies() || rangeLocks.admitWrite(io)) {
            start(io);
        }
    }

    private int validate(BdevDesc desc, IoType type, MemorySegment[] iovs, long[] offs, long[] lens, int first,
            int iovCount, long offset, long blocks) {
        int rc = validateRange(desc, type, offset, blocks);
        if (rc != 0) {
            return rc;
        }
        if (iovCount < 0 || iovCount > BdevIo.MAX_IOVS || first < 0
                || iovCount > 0 && first > iovs.length - iovCount) {
            return -Errno.EINVAL;
        }
        if (type.carriesData()) {
            if (iovCount == 0) {
                return type == IoType.READ && layer.canLendBuffer(blocks * bdev.blockSize()) ? 0 : -Errno.EINVAL;
            }
            long total = 0;
            for (int i = first, end = first + iovCount; i < end; i++) {
                long len = lens == null ? iovs[i].byteSize() : lens[i];
                long off = lens == null ? 0 : offs[i];
                if (len <= 0 || off < 0 || off > iovs[i].byteSize() - len) {
                    return -Errno.EINVAL;
                }
                total += len;
            }
            if (total != blocks * bdev.blockSize()) {
                return -Errno.EINVAL;
            }
        }
        return 0;
    }

    /** The checks every I/O passes: open descriptor, supported type, permission, range (overflow-safe). */
    private int validateRange(BdevDesc desc, IoType type, long offset, long blocks) {
        if (desc.closed() || releasing) {
            return -Errno.EBADF;
        }
        if (!bdev.supports(type)) {
            return -Errno.ENOTSUP;
        }
        if (type.modifies() && !desc.writable()) {
            return -Errno.EBADF;
        }
        boolean ranged = type != IoType.RESET && type != IoType.FLUSH;
        if (ranged && blocks <= 0 || offset < 0 || blocks < 0 || offset > bdev.numBlocks() - blocks) {
            return -Errno.EINVAL;
        }
        return 0;
    }

    /** Hands the io to its module (again, after a NOMEM). */
    void start(BdevIo io) {
        inSubmit = true;
        try {
            bdev.runSubmit(io);
        } catch (RuntimeException e) {
            LOG.error("bdev {}: module failed to submit {}", bdev.name(), io.type(), e);
            if (io.status() == BdevIoStatus.PENDING) {
                io.complete(BdevIoStatus.FAILED);
            }
        } finally {
            inSubmit = false;
        }
    }

    // ---- completion ----

    /** The module completed {@code io}. A completion inside the module's submit is run one message later. */
    void completed(BdevIo io) {
        if (io.status() == BdevIoStatus.NOMEM) {
            io.resetStatusForRetry();
            queueNomem(io);
            return;
        }
        if (inSubmit) {
            thread.send(COMPLETE_LATER, io); // never call the caller back inside its own submit call
        } else {
            finish(io);
        }
    }

    private void finish(BdevIo io) {
        outstanding--;
        if (io.type().modifies()) {
            rangeLocks.writeEnded(io);
        }
        boolean success = io.status() == BdevIoStatus.SUCCESS;
        io.completedAt(thread.workNanos());
        stats.record(io.type(), io.lengthBytes(), io.latencyTicks(), success);
        try {
            io.callback().done(io, success, io.callbackArg());
        } catch (RuntimeException e) {
            LOG.error("bdev {}: completion callback failed", bdev.name(), e);
        }
        if (!nomem.isEmpty()) {
            retryNomem();
        }
        maybeFinishRelease();
    }

    private void queueNomem(BdevIo io) {
        nomem.add(io);
        nomemTotal++;
        if (nomem.size() == 1) {
            nomemRetry.resume();
        }
    }

    /** Resubmits what the module bounced; each io at most once per pass, so a still-full module cannot loop. */
    private int retryNomem() {
        int pass = nomem.size();
        int resubmitted = 0;
        BdevIo io;
        while (pass-- > 0 && (io = nomem.poll()) != null) {
            resubmitted++;
            start(io);
        }
        if (nomem.isEmpty()) {
            nomemRetry.pause();
        }
        return resubmitted > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    void release(BdevIo io) {
        if (io.pooledBuffer != null) {
            layer.returnBuffer(this, io.pooledBuffer);
            io.pooledBuffer = null;
        }
        io.clearBuffers();
        cache.free(io);
    }

    // ---- LBA range locks ----

    /** See {@link BdevDesc#lockLbaRange} ({@code mayWait}) and {@link BdevDesc#tryLockLbaRange}. */
    int lockLbaRange(BdevDesc desc, long offsetBlocks, long numBlocks, IntConsumer done, boolean mayWait) {
        checkRangeLockCall(done);
        if (desc.closed() || releasing) {
            return -Errno.EBADF;
        }
        if (desc.bdev() != bdev || numBlocks <= 0 || offsetBlocks < 0 || offsetBlocks > bdev.numBlocks() - numBlocks) {
            return -Errno.EINVAL;
        }
        return rangeLocks.lock(desc, offsetBlocks, numBlocks, done, mayWait);
    }

    /** See {@link BdevDesc#unlockLbaRange}. */
    int unlockLbaRange(BdevDesc desc, long offsetBlocks, long numBlocks, IntConsumer done) {
        checkRangeLockCall(done);
        return releasing ? -Errno.EBADF : rangeLocks.unlock(desc, offsetBlocks, numBlocks, done);
    }

    private void checkRangeLockCall(IntConsumer done) {
        if (KeelThread.current() != thread) {
            throw new IllegalStateException("bdev channel of " + thread.name() + " used on another thread");
        }
        Objects.requireNonNull(done, "a range lock needs a callback");
    }

    // ---- waiting for a bdev_io ----

    /** Queues {@code waiter} to be called here when a bdev_io is free (after a submit returned -ENOMEM). */
    public void queueIoWait(BdevIoWaiter waiter) {
        cache.queue(waiter);
    }

    // ---- accessors ----

    public Bdev bdev() {
        return bdev;
    }

    public KeelThread thread() {
        return thread;
    }

    @SuppressWarnings("unchecked")
    <T> T moduleContext() {
        return (T) moduleChannel.context();
    }

    /** I/O submitted on this channel and not yet completed. */
    public int outstanding() {
        return outstanding;
    }

    /** I/O waiting to be resubmitted after its module said NOMEM. */
    public int nomemQueued() {
        return nomem.size();
    }

    public long nomemTotal() {
        return nomemTotal;
    }

    /** Writes waiting here, not started, for an LBA range lock they overlap to be unlocked. */
    public int lockHeldBack() {
        return rangeLocks.heldBack();
    }

    /** How many times a write waited for an LBA range lock here. */
    public long lockHeldBackTotal() {
        return rangeLocks.heldBackTotal();
    }

    BdevThreadCache threadCache() {
        return cache;
    }

    ChannelRangeLocks rangeLocks() {
        return rangeLocks;
    }

    /** Whether the last reference has been put (the channel refuses new work and is letting go). */
    boolean releasing() {
        return releasing;
    }

    IoStats stats() {
        return stats;
    }

    /** For logs about a channel that is slow to release: the bdev, and what it still waits for. */
    @Override
    public String toString() {
        return "bdev " + bdev.name() + ": " + outstanding + " I/O outstanding, " + nomem.size()
                + " parked after NOMEM, " + rangeLocks.heldBack() + " held back by a range lock"
                + (rangeLocks.settled() ? "" : ", range locks of its own still being released");
    }
}
