package io.keel.bdev;

import io.keel.core.iobuf.IoBufWaiter;
import java.lang.foreign.MemorySegment;

/**
 * One I/O in flight through the bdev layer (SPDK's {@code spdk_bdev_io}). Pooled: taken from the layer's
 * bounded pool at submission, returned by {@link #free()}; nothing is allocated per I/O. Every method runs on
 * the thread that submitted the I/O, which is also where its module completes it.
 */
public final class BdevIo {
    /** Most buffer segments one I/O carries. */
    public static final int MAX_IOVS = 32;

    private final MemorySegment[] ownIovs = new MemorySegment[MAX_IOVS];
    private final long[] ownOffs = new long[MAX_IOVS];
    private final long[] ownLens = new long[MAX_IOVS];
    /**
     * The I/O's segments: entries {@code iovFirst ..} of these — its own arrays, or a caller's vector it was lent
     * ({@link #lendIovs}: no copy, as SPDK's bdev_io points at its caller's iovec).
     */
    private MemorySegment[] iovs = ownIovs;
    /** Where in each segment this I/O's bytes start (a part of a parent I/O's buffers: see BdevDesc#submitPart). */
    private long[] iovOffs = ownOffs;
    /** Bytes of each segment this I/O uses (a lent pooled buffer is larger than the I/O). */
    private long[] iovLens = ownLens;
    private int iovFirst;
    /** Called with a lent data buffer when the I/O had to wait for one; made once, reused by every I/O. */
    final IoBufWaiter bufferWaiter = IoBufWaiter.of(this::bufferArrived);
    private int iovCount;
    private IoType type;
    private long offsetBlocks;
    private long numBlocks;
    private BdevIoStatus status = BdevIoStatus.PENDING;
    private int nvmeSct;
    private int nvmeSc;
    private BdevIoCallback callback;
    private Object callbackArg;
    private BdevDesc desc;
    private BdevChannel channel;
    private long submitTicks;
    private long completeTicks;
    /** A data buffer the layer took from iobuf for this I/O (a read submitted without one); freed with the io. */
    MemorySegment pooledBuffer;
    /** Layer-owned link: the free list, the NOMEM retry queue, the writes an LBA range lock holds back. */
    BdevIo next;
    /** Layer-owned links of a write started and not yet completed (its channel's {@link WritesInFlight}). */
    BdevIo writePrev;
    BdevIo writeNext;
    boolean writeInFlight;
    private boolean inUse;
    /** Made beyond the pool's bound for a child I/O (see BdevIoPool.makeOverflow): dropped when freed. */
    boolean overflow;

    /** Free for the module that runs the I/O: its own context (e.g. the parent of a child I/O). */
    public Object moduleContext;
    /** Free for the module: a number of its own (e.g. a deadline). */
    public long moduleValue;
    /** Free for the module: a link for its own queues. */
    public BdevIo moduleNext;

    BdevIo() {
    }

    void init(BdevDesc d, BdevChannel ch, IoType t, long offset, long blocks, BdevIoCallback cb, Object arg) {
        inUse = true;
        desc = d;
        channel = ch;
        type = t;
        offsetBlocks = offset;
        numBlocks = blocks;
        callback = cb;
        callbackArg = arg;
        status = BdevIoStatus.PENDING;
        nvmeSct = 0;
        nvmeSc = 0;
        iovCount = 0;
        if (iovs != ownIovs) {
            iovs = ownIovs;
            iovOffs = ownOffs;
            iovLens = ownLens;
            iovFirst = 0;
        }
        moduleContext = null;
        moduleValue = 0;
        moduleNext = null;
    }

    void addIov(MemorySegment seg, long length) {
        addIov(seg, 0, length);
    }

    void addIov(MemorySegment seg, long offset, long length) {
        if (ownIovs[iovCount] != seg) { // a caller's buffers come from the same few segments: often already in place
            ownIovs[iovCount] = seg;
        }
        ownOffs[iovCount] = offset;
        ownLens[iovCount++] = length;
    }

    /**
     * Takes {@code count} entries of a caller's vector from {@code first} on as the I/O's segments, without copying
     * them: the caller leaves them as they are until the I/O completes.
     */
    void lendIovs(MemorySegment[] bases, long[] offsets, long[] lengths, int first, int count) {
        iovs = bases;
        iovOffs = offsets;
        iovLens = lengths;
        iovFirst = first;
        iovCount = count;
    }

    /**
     * Takes {@code bytes} of {@code parent}'s data from byte {@code from} on as this I/O's segments (views of the
     * parent's, nothing copied or allocated); false when that needs more than {@link #MAX_IOVS} segments.
     */
    boolean addIovsOf(BdevIo parent, long from, long bytes) {
        long skip = from;
        long left = bytes;
        for (int i = 0; i < parent.iovCount && left > 0; i++) {
            long len = parent.iovLength(i);
            if (skip >= len) {
                skip -= len;
                continue;
            }
            if (iovCount == MAX_IOVS) {
                return false;
            }
            long take = Math.min(len - skip, left);
            addIov(parent.iov(i), parent.iovOffset(i) + skip, take);
            left -= take;
            skip = 0;
        }
        return left == 0;
    }

    /** Takes {@code buf}, lent from iobuf, as this read's buffer. */
    void attachPooled(MemorySegment buf) {
        pooledBuffer = buf;
        addIov(buf, lengthBytes());
    }

    private void bufferArrived(MemorySegment buf) {
        attachPooled(buf);
        channel.start(this);
    }

    void submitted(long ticks) {
        submitTicks = ticks;
    }

    /** When the layer accepted the I/O (framework clock, ns). */
    public long submitTicks() {
        return submitTicks;
    }

    void completedAt(long ticks) {
        completeTicks = ticks;
    }

    /**
     * How long the I/O took in the layer, submission to completion (framework clock, ns), measured once for the
     * layer's statistics — with the clock of the units of work that submitted and completed it
     * ({@code KeelThread.workNanos}) — callers that want per-I/O latency read it here instead of reading the clock
     * again.
     */
    public long latencyTicks() {
        return completeTicks - submitTicks;
    }

    // ---- for modules ----

    /** Ends the I/O. Called by the module on the submitting thread, at most once. */
    public void complete(BdevIoStatus s) {
        if (status != BdevIoStatus.PENDING) {
            throw new IllegalStateException("bdev_io " + type + " completed twice (" + status + ", then " + s + ")");
        }
        status = s;
        channel.completed(this);
    }

    /** Ends the I/O with an NVMe status (status code type, status code). */
    public void completeNvme(int sct, int sc) {
        nvmeSct = sct;
        nvmeSc = sc;
        complete(sct == 0 && sc == 0 ? BdevIoStatus.SUCCESS : BdevIoStatus.NVME_ERROR);
    }

    /** Copies the I/O's data into {@code dst} at {@code dstOffset} (for a write). */
    public void copyFromBuffers(MemorySegment dst, long dstOffset) {
        long at = dstOffset;
        for (int i = 0; i < iovCount; i++) {
            MemorySegment.copy(iov(i), iovOffset(i), dst, at, iovLength(i));
            at += iovLength(i);
        }
    }

    /** Copies {@code src} from {@code srcOffset} into the I/O's buffers (for a read). */
    public void copyToBuffers(MemorySegment src, long srcOffset) {
        long at = srcOffset;
        for (int i = 0; i < iovCount; i++) {
            MemorySegment.copy(src, at, iov(i), iovOffset(i), iovLength(i));
            at += iovLength(i);
        }
    }

    /** Whether the I/O's buffers hold the same bytes as {@code src} from {@code srcOffset} (for compare). */
    public boolean buffersEqual(MemorySegment src, long srcOffset) {
        long at = srcOffset;
        for (int i = 0; i < iovCount; i++) {
            long len = iovLength(i);
            if (MemorySegment.mismatch(src, at, at + len, iov(i), iovOffset(i), iovOffset(i) + len) != -1) {
                return false;
            }
            at += len;
        }
        return true;
    }

    /** Fills the I/O's buffers with zeros (a read of unwritten space). */
    public void zeroBuffers() {
        for (int i = 0; i < iovCount; i++) {
            iov(i).asSlice(iovOffset(i), iovLength(i)).fill((byte) 0);
        }
    }

    // ---- for the caller ----

    /** Returns the io to the pool. The caller calls it once, after its callback has used the io. */
    public void free() {
        if (!inUse) {
            throw new IllegalStateException("bdev_io freed twice");
        }
        inUse = false;
        channel.release(this);
    }

    public IoType type() {
        return type;
    }

    public long offsetBlocks() {
        return offsetBlocks;
    }

    public long numBlocks() {
        return numBlocks;
    }

    public long lengthBytes() {
        return numBlocks * bdev().blockSize();
    }

    public int iovCount() {
        return iovCount;
    }

    /**
     * Segment {@code i} of the I/O's data; only {@link #iovLength(int)} bytes from {@link #iovOffset(int)} on belong to
     * the I/O.
     */
    public MemorySegment iov(int i) {
        return iovs[iovFirst + i];
    }

    public long iovOffset(int i) {
        return iovOffs[iovFirst + i];
    }

    public long iovLength(int i) {
        return iovLens[iovFirst + i];
    }

    public BdevIoStatus status() {
        return status;
    }

    public int nvmeSct() {
        return nvmeSct;
    }

    public int nvmeSc() {
        return nvmeSc;
    }

    public Bdev bdev() {
        return channel.bdev();
    }

    public BdevDesc desc() {
        return desc;
    }

    /** The submitting thread's channel for the bdev. */
    public BdevChannel channel() {
        return channel;
    }

    /** The module's per-thread context for the bdev (what its io_device created on this thread). */
    public <T> T moduleChannel() {
        return channel.moduleContext();
    }

    BdevIoCallback callback() {
        return callback;
    }

    Object callbackArg() {
        return callbackArg;
    }

    void resetStatusForRetry() {
        status = BdevIoStatus.PENDING;
    }

    /**
     * Forgets the segments as the io goes back to the pool. The references themselves stay until a later
     * {@link #addIov} overwrites them (it stores nothing when the same segment is in place): a reference store into a
     * {@code MemorySegment[]} costs an interface type check and a GC write barrier, on every I/O, and a pooled io
     * keeping a caller's buffer reachable a little longer is harmless.
     */
    void clearBuffers() {
        iovCount = 0;
    }
}
