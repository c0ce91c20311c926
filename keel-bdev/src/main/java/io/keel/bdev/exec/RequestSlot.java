package io.keel.bdev.exec;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.core.rpc.Errno;
import java.lang.foreign.MemorySegment;

/**
 * One request in flight: what to submit, its bdev completion callback, its place in the executor's wait for a
 * bdev_io. Made up front and reused ({@link RequestExecutor}); owner thread only.
 */
final class RequestSlot implements BdevIoCallback {
    private final RequestExecutor<?> executor;
    /** The transport's request, handed back when this one ends. */
    Object request;
    private BdevDesc desc;
    private BdevChannel channel;
    private IoType type;
    private long offsetBlocks;
    private long numBlocks;
    private MemorySegment buf;
    private MemorySegment[] iovs;
    /** Where each of {@link #iovs} starts and its length; both null: each segment whole. */
    private long[] iovOffsets;
    private long[] iovLengths;
    private int iovFirst;
    private int iovCount;
    // a table of ranges, one I/O per non-empty entry, one after another
    private MemorySegment ranges;
    private BlockRanges rangeFormat;
    private int rangeCount;
    private int rangeIndex;
    /** The next slot waiting for a bdev_io ({@link IoWaitQueue}). */
    RequestSlot nextWaiting;
    // a one-entry cache of the exact-length view of the last buffer larger than its I/O
    private MemorySegment sliceBase;
    private MemorySegment slice;

    RequestSlot(RequestExecutor<?> executor) {
        this.executor = executor;
    }

    BdevChannel channel() {
        return channel;
    }

    /**
     * Sets up an I/O of one range; {@code data} (may be larger than the I/O) or {@code vector} (its entries
     * {@code vectorFirst ..}, pieces of them where {@code vectorOffsets}/{@code vectorLengths} say, each segment whole
     * if null) carries its data.
     */
    void set(IoType t, BdevDesc d, BdevChannel ch, MemorySegment data, MemorySegment[] vector, long[] vectorOffsets,
            long[] vectorLengths, int vectorFirst, int vectorCount, long offset, long blocks) {
        type = t;
        desc = d;
        channel = ch;
        offsetBlocks = offset;
        numBlocks = blocks;
        buf = data == null ? null : exact(data, blocks * d.bdev().blockSize());
        iovs = vector;
        iovOffsets = vectorOffsets;
        iovLengths = vectorLengths;
        iovFirst = vectorFirst;
        iovCount = vectorCount;
    }

    /** Sets up one {@code t} per non-empty entry of {@code table}; {@link #nextRange()} starts the first. */
    void setRanges(IoType t, BdevDesc d, BdevChannel ch, MemorySegment table, int count, BlockRanges format) {
        type = t;
        desc = d;
        channel = ch;
        ranges = table;
        rangeCount = count;
        rangeFormat = format;
        rangeIndex = 0;
    }

    /** {@code data} cut to {@code bytes}: itself unless larger (a larger one's view is cached per slot). */
    private MemorySegment exact(MemorySegment data, long bytes) {
        if (data.byteSize() <= bytes) {
            return data; // exact, or too short: the bdev layer refuses it (-EINVAL)
        }
        if (sliceBase != data || slice.byteSize() != bytes) {
            sliceBase = data;
            slice = data.asSlice(0, bytes);
        }
        return slice;
    }

    /** Starts the range at {@link #rangeIndex} or the first non-empty one after it; ends the request if none is left. */
    void nextRange() {
        while (rangeIndex < rangeCount) {
            long blocks = rangeFormat.numBlocks(ranges, rangeIndex);
            if (blocks > 0) {
                offsetBlocks = rangeFormat.offsetBlocks(ranges, rangeIndex);
                numBlocks = blocks;
                executor.start(this);
                return;
            }
            rangeIndex++;
        }
        executor.finish(this, RequestStatus.SUCCESS, 0);
    }

    /**
     * Submits the I/O to the bdev layer. Returns false when it has no bdev_io free (the caller makes this slot
     * wait); true when the I/O went in, or was refused and the request ended.
     */
    boolean submit() {
        int rc = switch (type) {
            case READ -> iovs != null
                    ? desc.readv(channel, iovs, iovOffsets, iovLengths, iovFirst, iovCount, offsetBlocks, numBlocks,
                            this, null)
                    : desc.read(channel, buf, offsetBlocks, numBlocks, this, null);
            case WRITE -> iovs != null
                    ? desc.writev(channel, iovs, iovOffsets, iovLengths, iovFirst, iovCount, offsetBlocks, numBlocks,
                            this, null)
                    : desc.write(channel, buf, offsetBlocks, numBlocks, this, null);
            case COMPARE -> iovs != null
                    ? desc.comparev(channel, iovs, iovCount, offsetBlocks, numBlocks, this, null)
                    : desc.compare(channel, buf, offsetBlocks, numBlocks, this, null);
            case WRITE_ZEROES -> desc.writeZeroes(channel, offsetBlocks, numBlocks, this, null);
            case UNMAP -> desc.unmap(channel, offsetBlocks, numBlocks, this, null);
            case FLUSH -> desc.flush(channel, offsetBlocks, numBlocks, this, null);
            case RESET -> throw new IllegalStateException("a reset is not a request");
        };
        if (rc == -Errno.ENOMEM) {
            return false;
        }
        if (rc != 0) {
            executor.finish(this, RequestStatus.REFUSED, rc);
        }
        return true;
    }

    @Override
    public void done(BdevIo io, boolean success, Object arg) {
        if (success) {
            io.free();
            if (ranges != null) {
                rangeIndex++;
                nextRange();
            } else {
                executor.finish(this, RequestStatus.SUCCESS, 0);
            }
            return;
        }
        BdevIoStatus st = io.status();
        int nvmeStatus = (io.nvmeSct() & 0x7) << 8 | (io.nvmeSc() & 0xFF);
        io.free();
        switch (st) {
            case MISCOMPARE -> executor.finish(this, RequestStatus.MISCOMPARE, 0);
            case ABORTED -> executor.finish(this, RequestStatus.ABORTED, 0);
            case NVME_ERROR -> executor.finish(this, RequestStatus.NVME_ERROR, nvmeStatus);
            default -> executor.finish(this, RequestStatus.FAILED, 0);
        }
    }

    /** Lets go of what the request referenced (the slice cache stays). */
    void clear() {
        request = null;
        desc = null;
        channel = null;
        buf = null;
        iovs = null;
        iovOffsets = null;
        iovLengths = null;
        ranges = null;
        rangeFormat = null;
    }
}
