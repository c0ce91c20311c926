package io.keel.vhost.virtio;

import io.keel.vhost.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One descriptor chain popped from a virtqueue, as segments of guest memory read and written in place: segment
 * {@code i} is {@link #length(int)} bytes at {@link #offset(int)} in {@link #base(int)} (a mapped guest memory
 * region). The device-readable segments come first ({@link #readableCount()}), then the device-writable ones (the
 * spec's order; a chain that breaks it is refused before it gets here). A buffer that spans two memory regions is
 * two segments. Pooled: one per descriptor head, reused, nothing allocated per request.
 */
public final class VirtqueueRequest {
    private final Virtqueue queue;
    private final MemorySegment[] bases;
    private final long[] offsets;
    private final long[] lengths;
    private int head;
    private int segmentCount;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;
    boolean inFlight;
    /** Ended, waiting for the queue to write it ({@link Virtqueue#complete}); then status and used length hold. */
    boolean ended;
    byte status;
    int usedLength;
    long generation;
    GuestMemory memory;

    VirtqueueRequest(Virtqueue queue, int maxSegments) {
        this.queue = queue;
        bases = new MemorySegment[maxSegments];
        offsets = new long[maxSegments];
        lengths = new long[maxSegments];
    }

    /** The chain's head descriptor index: its id in the used ring. */
    public int head() {
        return head;
    }

    public Virtqueue queue() {
        return queue;
    }

    public int segmentCount() {
        return segmentCount;
    }

    /** Segments {@code 0 .. readableCount()-1} are device-readable (driver to device), the rest device-writable. */
    public int readableCount() {
        return readableCount;
    }

    public boolean writable(int i) {
        return i >= readableCount;
    }

    /** The guest memory region segment {@code i} lies in (whole region: use {@link #offset} and {@link #length}). */
    public MemorySegment base(int i) {
        return bases[i];
    }

    public long offset(int i) {
        return offsets[i];
    }

    public long length(int i) {
        return lengths[i];
    }

    /**
     * The arrays behind {@link #base}, {@link #offset} and {@link #length} (entries {@code 0 .. segmentCount()-1}), so
     * that a run of segments goes to the bdev layer without a copy. Read only; valid until the request completes.
     */
    public MemorySegment[] bases() {
        return bases;
    }

    public long[] offsets() {
        return offsets;
    }

    public long[] lengths() {
        return lengths;
    }

    /** Segment {@code i} as a segment of its own. Allocates a view: for the control path and tests. */
    public MemorySegment slice(int i) {
        return bases[i].asSlice(offsets[i], lengths[i]);
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    /**
     * Ends the request: {@code status} goes into the last byte of the device-writable part (where virtio-blk puts its
     * status; nothing is written when there is none), then the head goes to the used ring with {@code usedLength}
     * (bytes the device wrote) — both at the end of the thread's round, when the queue writes what ended in it; the
     * request counts as in flight until then. Exactly once per request, on the queue's thread; the guest is called (if
     * it asked) at the queue's next {@link Virtqueue#signalIfNeeded()}.
     */
    public void complete(byte status, int usedLength) {
        if (!inFlight || ended) {
            throw new IllegalStateException("request " + head + " of queue " + queue.index() + " is not in flight");
        }
        ended = true;
        this.status = status;
        this.usedLength = usedLength;
        queue.complete(this);
    }

    /** Writes the status byte (the queue, when it flushes what ended). */
    void writeStatus() {
        if (writableBytes > 0) {
            int last = segmentCount - 1;
            bases[last].set(ValueLayout.JAVA_BYTE, offsets[last] + lengths[last] - 1, status);
        }
    }

    void reset(int head) {
        this.head = head;
        segmentCount = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
    }

    /** Adds a buffer of the chain, split at region ends; null, or why the chain is refused (a constant). */
    String addBuffer(GuestMemory mem, long addr, long length, boolean deviceWritable) {
        if (!deviceWritable && writableBytes > 0) {
            return "a device-readable buffer follows a device-writable one";
        }
        while (length > 0) {
            if (segmentCount == bases.length) {
                return "more segments than the device takes";
            }
            int r = mem.regionOfGuest(addr);
            if (r < 0) {
                return "a buffer lies outside guest memory";
            }
            long off = addr - mem.guestStart(r);
            long take = Math.min(length, mem.regionSize(r) - off);
            MemorySegment region = mem.region(r);
            if (bases[segmentCount] != region) { // as a rule the slot holds it already: see forgetSegments
                bases[segmentCount] = region;
            }
            offsets[segmentCount] = off;
            lengths[segmentCount] = take;
            segmentCount++;
            if (deviceWritable) {
                writableBytes += take;
            } else {
                readableCount++;
                readableBytes += take;
            }
            addr += take;
            length -= take;
        }
        return null;
    }

    /**
     * The request is free again: it has no segments. The references to guest memory regions stay in {@link #bases}
     * until a later chain overwrites them, and a chain's buffers lie in the same region as the last one's, as a rule,
     * so {@link #addBuffer} finds its region in place and stores nothing: a reference store into a
     * {@code MemorySegment[]} costs an interface type check and a GC barrier, ~4 ns each, which was a third of a
     * three-descriptor walk. Holding them is harmless: nothing reads past {@link #segmentCount}, and a retired memory
     * table is unmapped by its request count ({@code GuestMemory.release}), not by the collector.
     */
    void forgetSegments() {
        segmentCount = 0;
    }
}
