package io.keel.vhost.virtio;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The split virtqueue's layout (virtio 1.1 section 2.6), little-endian as the machine: the descriptor table (16 bytes
 * each: {@code le64 addr, le32 len, le16 flags, le16 next}), the available ring ({@code le16 flags, le16 idx,
 * le16 ring[size], le16 used_event}) and the used ring ({@code le16 flags, le16 idx, {le32 id, le32 len}[size],
 * le16 avail_event}). The trailing event fields exist with VIRTIO_F_EVENT_IDX.
 */
public final class SplitRing {
    public static final long DESC_BYTES = 16;
    public static final long DESC_ADDR = 0;
    public static final long DESC_LEN = 8;
    public static final long DESC_FLAGS = 12;
    public static final long DESC_NEXT = 14;
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;

    public static final long RING_FLAGS = 0;
    public static final long RING_IDX = 2;
    public static final long AVAIL_RING = 4;
    public static final long USED_RING = 4;
    public static final long USED_ELEM_BYTES = 8;
    /** VRING_AVAIL_F_NO_INTERRUPT: the driver needs no call (ignored with event-idx). */
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    /** VRING_USED_F_NO_NOTIFY: the device needs no kick (ignored with event-idx). */
    public static final int USED_F_NO_NOTIFY = 1;
    /** Alignment the rings' addresses must have: descriptors 16, available ring 2, used ring 4. */
    public static final long DESC_ALIGN = 16;
    public static final long AVAIL_ALIGN = 2;
    public static final long USED_ALIGN = 4;

    /** Acquire/release view of a ring's 16-bit index (shared with another process: ordering matters). */
    static final VarHandle U16 = ValueLayout.JAVA_SHORT.varHandle();
    static final ValueLayout.OfLong LONG_U = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt INT_U = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfShort SHORT_U = ValueLayout.JAVA_SHORT_UNALIGNED;

    private SplitRing() {
    }

    public static long descTableBytes(int size) {
        return DESC_BYTES * size;
    }

    /** Available ring bytes, with used_event. */
    public static long availBytes(int size) {
        return AVAIL_RING + 2L * size + 2;
    }

    /** Used ring bytes, with avail_event. */
    public static long usedBytes(int size) {
        return USED_RING + USED_ELEM_BYTES * size + 2;
    }

    public static long usedEventOffset(int size) {
        return AVAIL_RING + 2L * size;
    }

    public static long availEventOffset(int size) {
        return USED_RING + USED_ELEM_BYTES * size;
    }

    /**
     * virtio's {@code vring_need_event}: whether moving an index from {@code oldIdx} to {@code newIdx} crosses the
     * other side's {@code eventIdx} (all modulo 2^16).
     */
    public static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
}
