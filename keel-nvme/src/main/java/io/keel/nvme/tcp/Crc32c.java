package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * CRC32C (the NVMe/TCP header and data digest) over {@code MemorySegment} regions without copying,
 * using the JDK's intrinsic {@link CRC32C}.
 *
 * <p>{@code CRC32C} only takes arrays and {@code ByteBuffer}s, and {@code MemorySegment.asByteBuffer()}
 * allocates a view. This class keeps an identity cache of segment → view, so a region of a segment seen
 * before is digested through the cached view by moving its position and limit: no allocation in steady state.
 * The cache is a table hashed by identity, large enough for the I/O buffers of a deep queue (a host reads C2H
 * data straight into each request's own buffer, and bdevperf keeps one or two per request), not only the pooled
 * receive and send buffers. The first use of a segment allocates one view; a half-full table starts over, twice
 * the size up to {@value #CACHE_SIZE} slots, so the first I/Os of a new queue also allocate. Segments larger
 * than 2 GiB and read-only heap segments go through a fixed scratch array instead (a copy, no allocation). Not
 * thread-safe: one per reader or writer.
 */
public final class Crc32c {
    /** Slots of the view table at most: it holds up to half as many segments, so probes stay short. */
    static final int CACHE_SIZE = 1024;
    private static final int FIRST_SIZE = 16;
    private static final int SCRATCH = 4096;

    private final CRC32C crc = new CRC32C();
    private MemorySegment[] segments = new MemorySegment[FIRST_SIZE];
    private ByteBuffer[] views = new ByteBuffer[FIRST_SIZE];
    private int cached;
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
        int mask = segments.length - 1;
        int slot = System.identityHashCode(segment) & mask;
        for (MemorySegment s; (s = segments[slot]) != null; slot = (slot + 1) & mask) {
            if (s == segment) {
                return views[slot];
            }
        }
        if (segment.byteSize() > Integer.MAX_VALUE || (segment.isReadOnly() && !segment.isNative())) {
            return null;
        }
        if (cached == segments.length / 2) {
            // half full: start over, in a table twice the size up to CACHE_SIZE, making views again as they are used
            if (segments.length < CACHE_SIZE) {
                segments = new MemorySegment[segments.length * 2];
                views = new ByteBuffer[segments.length];
            } else {
                Arrays.fill(segments, null);
                Arrays.fill(views, null);
            }
            cached = 0;
            mask = segments.length - 1;
            slot = System.identityHashCode(segment) & mask;
        }
        ByteBuffer view = segment.asByteBuffer();
        segments[slot] = segment;
        views[slot] = view;
        cached++;
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
