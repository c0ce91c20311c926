package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.SplitRing.DESC_ADDR;
import static io.keel.vhost.virtio.SplitRing.DESC_BYTES;
import static io.keel.vhost.virtio.SplitRing.DESC_FLAGS;
import static io.keel.vhost.virtio.SplitRing.DESC_F_INDIRECT;
import static io.keel.vhost.virtio.SplitRing.DESC_F_NEXT;
import static io.keel.vhost.virtio.SplitRing.DESC_F_WRITE;
import static io.keel.vhost.virtio.SplitRing.DESC_LEN;
import static io.keel.vhost.virtio.SplitRing.DESC_NEXT;
import static io.keel.vhost.virtio.SplitRing.LONG_U;

import io.keel.vhost.memory.GuestMemory;
import java.lang.foreign.MemorySegment;

/**
 * Walks one descriptor chain into a {@link VirtqueueRequest}, trusting nothing the guest wrote: every index is checked
 * against its table, a chain visits at most as many descriptors as its table has (so a loop ends), every buffer and
 * indirect table must lie in guest memory, indirect tables only when negotiated, never nested nor combined with NEXT,
 * and device-readable buffers come before device-writable ones. The answer is null or why the chain is refused (a
 * constant string: refusing allocates nothing).
 */
final class ChainWalker {
    /** An indirect table may hold at most this many descriptors (virtio bounds a chain by the 2^15 queue size). */
    private static final long MAX_INDIRECT = 32768;
    /** Where flags and next sit in the 64 bits read at a descriptor's {@code len}. */
    private static final int FLAGS_SHIFT = (int) (DESC_FLAGS - DESC_LEN) * 8;
    private static final int NEXT_SHIFT = (int) (DESC_NEXT - DESC_LEN) * 8;

    private ChainWalker() {
    }

    static String walk(MemorySegment descTable, int queueSize, int head, GuestMemory mem, boolean indirectAllowed,
            VirtqueueRequest into) {
        into.reset(head);
        MemorySegment table = descTable;
        long tableStart = 0;
        int tableSize = queueSize;
        boolean indirect = false;
        int index = head;
        int visited = 0;
        while (true) {
            if (index >= tableSize) {
                return "a descriptor index is out of range";
            }
            if (++visited > tableSize) {
                return "the chain loops or is longer than its table";
            }
            long at = tableStart + DESC_BYTES * index;
            long addr = table.get(LONG_U, at + DESC_ADDR);
            long tail = table.get(LONG_U, at + DESC_LEN); // len, flags and next in one read (little-endian)
            long len = tail & 0xffff_ffffL;
            int flags = (int) (tail >>> FLAGS_SHIFT) & 0xffff;
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirectAllowed) {
                    return "an indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
                }
                if (indirect || (flags & DESC_F_NEXT) != 0) {
                    return "an indirect descriptor nested or chained with NEXT";
                }
                if (len == 0 || len % DESC_BYTES != 0 || len / DESC_BYTES > MAX_INDIRECT) {
                    return "an indirect table's length is not a whole number of descriptors";
                }
                int r = mem.regionOfGuest(addr);
                if (r < 0 || len > mem.regionSize(r) - (addr - mem.guestStart(r))) {
                    return "an indirect table lies outside guest memory";
                }
                table = mem.region(r);
                tableStart = addr - mem.guestStart(r);
                tableSize = (int) (len / DESC_BYTES);
                indirect = true;
                index = 0;
                visited = 0;
                continue;
            }
            String refused = into.addBuffer(mem, addr, len, (flags & DESC_F_WRITE) != 0);
            if (refused != null) {
                return refused;
            }
            if ((flags & DESC_F_NEXT) == 0) {
                return null;
            }
            index = (int) (tail >>> NEXT_SHIFT);
        }
    }
}
