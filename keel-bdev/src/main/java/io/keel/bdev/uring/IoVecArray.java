package io.keel.bdev.uring;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * A flyweight over a native array of {@code struct iovec {void *iov_base; size_t iov_len;}} for
 * {@link IoUring#prepareReadv} and {@link IoUring#prepareWritev}. Allocate it once and refill it per I/O; it
 * must stay valid until the I/O that uses it completes.
 */
public final class IoVecArray {
    /** sizeof(struct iovec) on 64-bit Linux. */
    public static final long IOVEC_SIZE = 16;
    private static final long IOV_BASE = 0;
    private static final long IOV_LEN = 8;

    private final MemorySegment segment;
    private final int capacity;

    private IoVecArray(MemorySegment segment, int capacity) {
        this.segment = segment;
        this.capacity = capacity;
    }

    /** Allocates room for {@code capacity} iovecs from {@code arena}. */
    public static IoVecArray allocate(SegmentAllocator arena, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        return new IoVecArray(arena.allocate(IOVEC_SIZE * capacity, 8), capacity);
    }

    /** Wraps an existing native segment holding iovecs (its size decides the capacity). */
    public static IoVecArray wrap(MemorySegment segment) {
        if (!segment.isNative() || segment.byteSize() < IOVEC_SIZE) {
            throw new IllegalArgumentException("need a native segment of at least one iovec");
        }
        return new IoVecArray(segment, (int) Math.min(Integer.MAX_VALUE, segment.byteSize() / IOVEC_SIZE));
    }

    /** Sets entry {@code index} to the first {@code len} bytes of {@code buf}. */
    public IoVecArray set(int index, MemorySegment buf, long len) {
        return set(index, buf, 0, len);
    }

    /** Entry {@code index}: {@code len} bytes of {@code buf} from {@code offset} on. */
    public IoVecArray set(int index, MemorySegment buf, long offset, long len) {
        if (!buf.isNative()) {
            throw new IllegalArgumentException("buffer must be native (off-heap)");
        }
        if (offset < 0 || len < 0 || offset + len > buf.byteSize()) {
            throw new IllegalArgumentException(len + " bytes at " + offset + " outside buffer of " + buf.byteSize()
                    + " bytes");
        }
        long o = IOVEC_SIZE * index;
        segment.set(JAVA_LONG, o + IOV_BASE, buf.address() + offset);
        segment.set(JAVA_LONG, o + IOV_LEN, len);
        return this;
    }

    /** Entry {@code index}'s base address. */
    public long base(int index) {
        return segment.get(JAVA_LONG, IOVEC_SIZE * index + IOV_BASE);
    }

    /** Entry {@code index}'s length. */
    public long length(int index) {
        return segment.get(JAVA_LONG, IOVEC_SIZE * index + IOV_LEN);
    }

    public int capacity() {
        return capacity;
    }

    /** The native address of entry 0 (what goes into the SQE). */
    public long address() {
        return segment.address();
    }

    public MemorySegment segment() {
        return segment;
    }
}
