package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;

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
        return ch.submit(this, IoType.READ, null, null, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int readv(BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.READ, iovs, null, iovCount, offsetBlocks, numBlocks, cb, arg);
    }

    public int write(BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return single(ch, IoType.WRITE, buf, offsetBlocks, numBlocks, cb, arg);
    }

    public int writev(BdevChannel ch, MemorySegment[] iovs, int iovCount, long offsetBlocks, long numBlocks,
            BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.WRITE, iovs, null, iovCount, offsetBlocks, numBlocks, cb, arg);
    }

    public int compare(BdevChannel ch, MemorySegment buf, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return single(ch, IoType.COMPARE, buf, offsetBlocks, numBlocks, cb, arg);
    }

    public int writeZeroes(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.WRITE_ZEROES, null, null, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int unmap(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.UNMAP, null, null, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int flush(BdevChannel ch, long offsetBlocks, long numBlocks, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.FLUSH, null, null, 0, offsetBlocks, numBlocks, cb, arg);
    }

    public int reset(BdevChannel ch, BdevIoCallback cb, Object arg) {
        return ch.submit(this, IoType.RESET, null, null, 0, 0, 0, cb, arg);
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
