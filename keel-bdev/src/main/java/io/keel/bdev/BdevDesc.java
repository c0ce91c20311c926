package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * An open handle on a bdev (SPDK's {@code spdk_bdev_desc}), read-only or read-write, owned by the thread that
 * opened it: its events arrive there and it is closed there. I/O goes through a thread's channel
 * ({@link #getIoChannel()}); the submit methods return 0, or a negative errno at once: -EINVAL (out of range,
 * misaligned, wrong buffer length), -EBADF (closed, or a write on a read-only descriptor), -ENOTSUP (type not
 * supported), -ENOMEM (no bdev_io free: {@link BdevChannel#queueIoWait} and try again).
 */
public final class BdevDesc {
    private final BdevLayer layer;
    private final Bdev bdev;
    private final boolean writable;
    private final BdevEventHandler handler;
    private final KeelThread thread;
    /** Written by the owner thread, read by every thread's submissions. */
    private volatile boolean closed;
    private BdevModule claimant;

    BdevDesc(BdevLayer layer, Bdev bdev, boolean writable, BdevEventHandler handler, KeelThread thread) {
        this.layer = layer;
        this.bdev = bdev;
        this.writable = writable;
        this.handler = handler;
        this.thread = thread;
    }

    public Bdev bdev() {
        return bdev;
    }

    public boolean writable() {
        return writable;
    }

    public boolean closed() {
        return closed;
    }

    public KeelThread thread() {
        return thread;
    }

    /** The calling thread's channel to the bdev (one reference: {@link IoChannel#put()} it when done). */
    public IoChannel<BdevChannel> getIoChannel() {
        IoChannel<BdevChannel> ch = KeelThread.current().getIoChannel(bdev.channelDevice());
        if (ch == null) {
            throw new BdevException(Errno.ENODEV, "bdev " + bdev.name() + " is being removed");
        }
        return ch;
    }

    public int read(BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return single(ch, IoType.READ, buf, offsetBlocks, numBlocks, cb, arg);
    }

    /** A read into a buffer the layer lends from iobuf ({@link BdevIo#iov(int)}); valid until {@link BdevIo#free()}. */
    public int readPooled(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.READ, null, null, null, 0, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int readv(BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.READ, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks, cb, arg);
    }

    /**
     * Reads into {@code count} pieces of memory without a view of each, those at {@code first .. first+count-1} of the
     * arrays: piece {@code i} is {@code lengths[i]} bytes at {@code offsets[i]} in {@code bases[i]} (a guest memory
     * region, say); {@code offsets} and {@code lengths} both null: each segment whole. With {@code offsets} and
     * {@code lengths}, the I/O uses the three arrays as they are, not a copy (as SPDK's bdev_io uses its caller's iovec):
     * the caller leaves those entries unchanged until the I/O completes; without, they are read at submission only.
     */
    public int readv(BdevChannel ch, MemorySegment[] bases, long[] offsets, long[] lengths, int first, int count,
            long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.READ, bases, offsets, lengths, first, count, offsetBlocks, numBlocks, cb, arg);
    }

    public int write(BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return single(ch, IoType.WRITE, buf, offsetBlocks, numBlocks, cb, arg);
    }

    public int writev(BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.WRITE, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks, cb, arg);
    }

    /**
     * Writes {@code count} pieces of memory, as
     * {@link #readv(BdevChannel, MemorySegment[], long[], long[], int, int, long, long, BdevIoCallback, Object)} reads.
     */
    public int writev(BdevChannel ch, MemorySegment[] bases, long[] offsets, long[] lengths, int first, int count,
            long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.WRITE, bases, offsets, lengths, first, count, offsetBlocks, numBlocks, cb, arg);
    }

    public int compare(BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return single(ch, IoType.COMPARE, buf, offsetBlocks, numBlocks, cb, arg);
    }

    /** Compares the blocks with the segments {@code iovs[0..iovCount)}, each used whole. */
    public int comparev(BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.COMPARE, iovs, null, null, 0, iovCount, offsetBlocks, numBlocks, cb, arg);
    }

    public int writeZeroes(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.WRITE_ZEROES, null, null, null, 0, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int unmap(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.UNMAP, null, null, null, 0, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int flush(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.FLUSH, null, null, null, 0, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int reset(BdevChannel ch, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.RESET, null, null, null, 0, 0, 0, 0, cb, arg);
    }

    /**
     * Submits a child I/O that does what {@code parent} asks (same type, blocks and buffers) on this
     * descriptor's bdev: how a virtual bdev passes an I/O down to its base ({@code spdk_bdev_part_submit_request}).
     * The parent's buffers are shared, not copied. Returns as the other submit methods do.
     */
    public int forward(BdevChannel ch, BdevIo parent, BdevIoCallback cb, Object arg) {
        return ch.submitChild(this, parent, parent.type(), 0, parent.offsetBlocks(), parent.numBlocks(), cb, arg);
    }

    /**
     * Submits a child I/O of {@code parent}'s type for {@code numBlocks} at {@code offsetBlocks} of this descriptor's
     * bdev, its data the parent's from byte {@code parentByteOffset} on (views of the parent's buffers: nothing is
     * copied or allocated): how a RAID bdev sends a piece of an I/O to a member. Never refused for want of a bdev_io;
     * -EINVAL when the piece needs more than {@link BdevIo#MAX_IOVS} segments. Returns as the other submit methods do.
     */
    public int submitPart(BdevChannel ch, BdevIo parent, long parentByteOffset, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submitChild(this, parent, parent.type(), parentByteOffset, offsetBlocks, numBlocks, cb, arg);
    }

    /**
     * Submits a child write of {@code numBlocks} at {@code offsetBlocks} of this descriptor's bdev, its data
     * {@code parent}'s from byte {@code parentByteOffset} on, whatever {@code parent}'s type: how a RAID writes the
     * data a read brought back to a member that failed to read it. Otherwise as {@link #submitPart}.
     */
    public int writePart(BdevChannel ch, BdevIo parent, long parentByteOffset, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submitChild(this, parent, IoType.WRITE, parentByteOffset, offsetBlocks, numBlocks, cb, arg);
    }

    /**
     * Locks blocks [{@code offsetBlocks}, {@code offsetBlocks + numBlocks}) of the bdev against writes (SPDK's
     * {@code bdev_lock_lba_range}), for this descriptor on {@code ch}, the calling thread's channel: what a RAID
     * rebuild does to the window it copies. From the moment the lock is recorded on a channel, writes there (write,
     * write zeroes, unmap) that overlap the range wait on that channel, not started, while reads and other blocks
     * flow; channels made later start with the lock. {@code done} runs on this thread with 0 once every channel has
     * recorded it and no overlapping write is in flight anywhere; from then on writes through this descriptor on
     * {@code ch} go through. A request that overlaps a lock held or being acquired waits for it to be unlocked (in
     * order of request); ranges that do not overlap are independent. If {@code ch} is released before the lock is
     * granted, {@code done} hears -ECANCELED; a lock still held then is released.
     *
     * @return 0, or at once -EINVAL (an empty or out-of-range range, or {@code ch} not this bdev's) or -EBADF (a
     *     closed descriptor, a released channel); {@code done} runs only after 0
     */
    public int lockLbaRange(BdevChannel ch, long offsetBlocks, long numBlocks, IntConsumer done) {
        return ch.lockLbaRange(this, offsetBlocks, numBlocks, done, true);
    }

    /**
     * As {@link #lockLbaRange}, but refused at once with -EBUSY instead of waiting behind a lock held or being
     * acquired that overlaps the range: for a holder that must not queue behind another lock whose holder may be
     * waiting for it (a RAID correcting a read that the holder of an overlapping lock issued).
     *
     * @return 0, or at once -EBUSY, -EINVAL or -EBADF; {@code done} runs only after 0
     */
    public int tryLockLbaRange(BdevChannel ch, long offsetBlocks, long numBlocks, IntConsumer done) {
        return ch.lockLbaRange(this, offsetBlocks, numBlocks, done, false);
    }

    /**
     * Unlocks a range this descriptor holds on {@code ch} (SPDK's {@code bdev_unlock_lba_range}), the exact range
     * given to {@link #lockLbaRange}: it leaves every channel, each resubmitting in order the writes it held back, then
     * {@code done} runs on this thread with 0, and locks waiting for this range may be granted.
     *
     * @return 0, or at once -EINVAL (no such lock held through this descriptor on {@code ch}) or -EBADF (a released
     *     channel)
     */
    public int unlockLbaRange(BdevChannel ch, long offsetBlocks, long numBlocks, IntConsumer done) {
        return ch.unlockLbaRange(this, offsetBlocks, numBlocks, done);
    }

    private int single(BdevChannel ch, IoType t, MemorySegment buf, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        if (buf == null) {
            return -Errno.EINVAL;
        }
        return ch.submitOne(this, t, buf, offsetBlocks, numBlocks, cb, arg);
    }

    /** Closes the descriptor (on the thread that opened it). Idempotent. */
    public void close() {
        if (KeelThread.current() != thread) {
            throw new IllegalStateException("bdev descriptor of " + bdev.name() + " must be closed on " + thread.name());
        }
        if (closed) {
            return;
        }
        closed = true;
        layer.descClosed(this);
    }

    BdevModule claimant() {
        return claimant;
    }

    void claimant(BdevModule m) {
        claimant = m;
    }

    void notify(BdevEvent event) {
        thread.send(() -> {
            if (!closed) {
                handler.onEvent(event, bdev);
            }
        });
    }
}
