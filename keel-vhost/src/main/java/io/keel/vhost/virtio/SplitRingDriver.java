package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.SplitRing.AVAIL_RING;
import static io.keel.vhost.virtio.SplitRing.DESC_ADDR;
import static io.keel.vhost.virtio.SplitRing.DESC_BYTES;
import static io.keel.vhost.virtio.SplitRing.DESC_FLAGS;
import static io.keel.vhost.virtio.SplitRing.DESC_LEN;
import static io.keel.vhost.virtio.SplitRing.DESC_NEXT;
import static io.keel.vhost.virtio.SplitRing.INT_U;
import static io.keel.vhost.virtio.SplitRing.LONG_U;
import static io.keel.vhost.virtio.SplitRing.RING_FLAGS;
import static io.keel.vhost.virtio.SplitRing.RING_IDX;
import static io.keel.vhost.virtio.SplitRing.SHORT_U;
import static io.keel.vhost.virtio.SplitRing.U16;
import static io.keel.vhost.virtio.SplitRing.USED_ELEM_BYTES;
import static io.keel.vhost.virtio.SplitRing.USED_F_NO_NOTIFY;
import static io.keel.vhost.virtio.SplitRing.USED_RING;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The driver's side of one split virtqueue (what a guest's virtio driver, or a virtio-user initiator, does) over
 * memory the device maps too: the descriptor table from byte 0, the available ring after it, the used ring after
 * that (4-aligned), {@link #bytes} in all. The driver writes descriptors, {@link #makeAvailable}s heads and
 * {@link #publish}es them in one store of the index (after a release fence: virtio_wmb), asks whether the device wants
 * a kick ({@link #deviceWantsKick}, after a full fence: virtio_mb), and reads the used ring ({@link #usedIdx} with
 * acquire: virtio_rmb). Event-idx is not used: notifications follow the ring flags. One thread at a time; nothing is
 * allocated.
 */
public final class SplitRingDriver {
    private final MemorySegment ring;
    private final int size;
    private final long avail;
    private final long used;
    private int availIdx;

    /** A ring of {@code size} entries (a power of two) laid out in {@code ring} (at least {@link #bytes} long). */
    public SplitRingDriver(MemorySegment ring, int size) {
        this.ring = ring;
        this.size = size;
        this.avail = availOffset(size);
        this.used = usedOffset(size);
    }

    public static long availOffset(int size) {
        return DESC_BYTES * size;
    }

    public static long usedOffset(int size) {
        return (availOffset(size) + SplitRing.availBytes(size) + 3) & ~3L;
    }

    /** Bytes the three parts take from the descriptor table's start. */
    public static long bytes(int size) {
        return usedOffset(size) + SplitRing.usedBytes(size);
    }

    public int size() {
        return size;
    }

    /** Writes descriptor {@code i}. */
    public void desc(int i, long addr, int len, int flags, int next) {
        long at = DESC_BYTES * i;
        ring.set(LONG_U, at + DESC_ADDR, addr);
        ring.set(INT_U, at + DESC_LEN, len);
        ring.set(SHORT_U, at + DESC_FLAGS, (short) flags);
        ring.set(SHORT_U, at + DESC_NEXT, (short) next);
    }

    /** Puts {@code head} in the next entry of the available ring; the device sees it after {@link #publish}. */
    public void makeAvailable(int head) {
        ring.set(SHORT_U, avail + AVAIL_RING + 2L * (availIdx & (size - 1)), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
    }

    /** Publishes the heads made available so far: the entries and their chains before the index. */
    public void publish() {
        U16.setRelease(ring, avail + RING_IDX, (short) availIdx);
    }

    /** Whether the device asks to be kicked (no VRING_USED_F_NO_NOTIFY), read after the index was published. */
    public boolean deviceWantsKick() {
        VarHandle.fullFence();
        return (ring.get(SHORT_U, used + RING_FLAGS) & USED_F_NO_NOTIFY) == 0;
    }

    /** Sets the available ring's flags (VRING_AVAIL_F_NO_INTERRUPT: the driver polls and wants no calls). */
    public void availFlags(int flags) {
        ring.set(SHORT_U, avail + RING_FLAGS, (short) flags);
    }

    public int availIdx() {
        return availIdx;
    }

    /** The device's used index; what it wrote before it (entries, buffers) is visible after this read. */
    public int usedIdx() {
        return (short) U16.getAcquire(ring, used + RING_IDX) & 0xffff;
    }

    /** The head of used entry {@code i} (taken modulo the size). */
    public int usedId(int i) {
        return ring.get(INT_U, used + USED_RING + USED_ELEM_BYTES * (i & (size - 1)));
    }

    /** The bytes the device wrote into used entry {@code i}'s chain. */
    public int usedLen(int i) {
        return ring.get(INT_U, used + USED_RING + USED_ELEM_BYTES * (i & (size - 1)) + 4);
    }

    public int usedFlags() {
        return ring.get(SHORT_U, used + RING_FLAGS) & 0xffff;
    }
}
