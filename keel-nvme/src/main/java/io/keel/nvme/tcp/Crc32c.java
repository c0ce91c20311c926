package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C (the NVMe/TCP header and data digest) over {@code MemorySegment} regions without copying,
 * using the JDK's intrinsic {@link CRC32C}.
 *
 * <p>{@code CRC32C} only takes arrays and {@code ByteBuffer}s, and {@code MemorySegment.asByteBuffer()}
 * allocates a view. This class keeps a small identity cache of segment → view, so a region of a segment
 * seen before (pooled receive and send buffers, as Keel uses) is digested through the cached view by moving
 * its position and limit: no allocation in steady state. The first use of a segment, or one evicted from
 * the {@value #CACHE_SIZE}-entry cache, allocates one view. Segments larger than 2 GiB and read-only heap
 * segments go through a fixed scratch array instead (a copy, no allocation). Not thread-safe: one per
 * reader or writer.
 */
public final class Crc32c {
    static final int CACHE_SIZE = 4;
    private static final int SCRATCH = 4096;

    private final CRC32C crc = new CRC32C();
    private final MemorySegment[] segments = new MemorySegment[CACHE_SIZE];
    private final ByteBuffer[] views = new ByteBuffer[CACHE_SIZE];
    private int victim;
    private byte[] scratch;

    public void reset() {
        crc.reset();
    }

    /** Adds {@code length} bytes of {@code segment} at {@code offset} to the running digest. */
    public void update(MemorySegment segment, long offset, long length) {
        if (length <= 0) {
            return;
        }
        ByteBuffer view = view(segment);
        if (view == null) {
            updateByCopy(segment, offset, length);
            return;
        }
        int from = (int) offset;
        view.clear();
        view.position(from).limit(from + (int) length);
        crc.update(view);
    }

    public void update(byte[] bytes, int offset, int length) {
        crc.update(bytes, offset, length);
    }

    /** The digest so far, as the 32-bit value stored little-endian on the wire. */
    public int value() {
        return (int) crc.getValue();
    }

    /** Digest of one region. */
    public int compute(MemorySegment segment, long offset, long length) {
        crc.reset();
        update(segment, offset, length);
        return (int) crc.getValue();
    }

    private ByteBuffer view(MemorySegment segment) {
        for (int i = 0; i < CACHE_SIZE; i++) {
            if (segments[i] == segment) {
                return views[i];
            }
        }
        if (segment.byteSize() > Integer.MAX_VALUE || (segment.isReadOnly() && !segment.isNative())) {
            return null;
        }
        ByteBuffer view = segment.asByteBuffer();
        int slot = victim;
        victim = (victim + 1) % CACHE_SIZE;
        segments[slot] = segment;
        views[slot] = view;
        return view;
    }

    private void updateByCopy(MemorySegment segment, long offset, long length) {
        if (scratch == null) {
            scratch = new byte[SCRATCH];
        }
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(SCRATCH, length - done);
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, offset + done, scratch, 0, n);
            crc.update(scratch, 0, n);
            done += n;
        }
    }
}
