package io.keel.vhost.blk;

import io.keel.vhost.virtio.VirtqueueRequest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * One virtio-blk request being served: room for its header when a driver splits it over descriptors, and its range
 * table, copied out of guest memory (checked once, not read again from memory the guest may change), and, when its
 * data share a descriptor with the header or the status byte, the data's pieces of guest memory cut out of those
 * (otherwise the bdev layer takes the request's own segments). Either way the bdev layer reads and writes guest
 * memory in place. Pooled by the device; reused, nothing allocated per request once warm.
 */
final class BlkIo {
    final MemorySegment header;
    final MemorySegment ranges;
    final MemorySegment[] bases;
    final long[] offsets;
    final long[] lengths;
    int pieces;
    VirtqueueRequest request;
    /** Bytes the device writes into the guest's buffers, status byte included. */
    int usedLength;
    /** The next free one in the device's pool. */
    BlkIo nextFree;

    BlkIo(SegmentAllocator arena, int maxSegments, int maxRanges) {
        header = arena.allocate(VirtioBlk.HEADER_BYTES, 8);
        ranges = arena.allocate((long) VirtioBlk.RANGE_BYTES * maxRanges, 8);
        bases = new MemorySegment[maxSegments];
        offsets = new long[maxSegments];
        lengths = new long[maxSegments];
    }

    /**
     * Takes as data pieces {@code bytes} bytes of the request's segments {@code from..to-1}, after skipping
     * {@code skip} bytes of them.
     */
    void pieces(VirtqueueRequest r, int from, int to, long skip, long bytes) {
        pieces = 0;
        for (int i = from; i < to && bytes > 0; i++) {
            long len = r.length(i);
            if (skip >= len) {
                skip -= len;
                continue;
            }
            long take = Math.min(len - skip, bytes);
            bases[pieces] = r.base(i);
            offsets[pieces] = r.offset(i) + skip;
            lengths[pieces] = take;
            pieces++;
            bytes -= take;
            skip = 0;
        }
    }

    /** Copies {@code bytes} bytes from the request's readable segments, {@code skip} bytes in, into {@code to}. */
    static void gather(VirtqueueRequest r, long skip, MemorySegment to, long bytes) {
        long at = 0;
        for (int i = 0; i < r.readableCount() && at < bytes; i++) {
            long len = r.length(i);
            if (skip >= len) {
                skip -= len;
                continue;
            }
            long take = Math.min(len - skip, bytes - at);
            MemorySegment.copy(r.base(i), r.offset(i) + skip, to, at, take);
            at += take;
            skip = 0;
        }
    }

    /** Copies {@code bytes} bytes of {@code from} to the start of the request's writable segments. */
    static void scatter(MemorySegment from, long bytes, VirtqueueRequest r) {
        long at = 0;
        for (int i = r.readableCount(); i < r.segmentCount() && at < bytes; i++) {
            long take = Math.min(r.length(i), bytes - at);
            MemorySegment.copy(from, at, r.base(i), r.offset(i), take);
            at += take;
        }
    }

    void clear() {
        for (int i = 0; i < pieces; i++) {
            bases[i] = null;
        }
        pieces = 0;
        request = null;
    }
}
