package io.keel.vhost.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The driver's side of a split virtqueue laid out in {@link GuestRam} from guest-physical {@code at}: descriptor
 * table, then the available ring, then (4-aligned) the used ring. The test writes descriptors and makes heads
 * available as a guest's virtio driver would, and reads what the device put in the used ring.
 */
public final class DriverRing {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final MemorySegment ram;
    private final long base;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;
    private int availIdx;

    public DriverRing(GuestRam ram, long at, int size) {
        this.ram = ram.bytes();
        this.base = ram.base();
        this.size = size;
        this.desc = at;
        this.avail = at + 16L * size;
        this.used = (avail + 4 + 2L * size + 2 + 3) & ~3L;
    }

    public int size() {
        return size;
    }

    public long descAddr() {
        return desc;
    }

    public long availAddr() {
        return avail;
    }

    public long usedAddr() {
        return used;
    }

    /** Guest-physical bytes the rings take from {@code at}. */
    public long end() {
        return used + 4 + 8L * size + 2;
    }

    /** Writes descriptor {@code i} of the ring's table. */
    public DriverRing desc(int i, long addr, int len, int flags, int next) {
        return descAt(desc + 16L * i, addr, len, flags, next);
    }

    /** Writes a descriptor at guest-physical {@code at} (an indirect table's entry). */
    public DriverRing descAt(long at, long addr, int len, int flags, int next) {
        long o = at - base;
        ram.set(U64, o, addr);
        ram.set(U32, o + 8, len);
        ram.set(U16, o + 12, (short) flags);
        ram.set(U16, o + 14, (short) next);
        return this;
    }

    /** Puts {@code head} in the available ring and publishes the new index. */
    public void makeAvailable(int head) {
        ram.set(U16, avail - base + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        VarHandle.releaseFence(); // virtio_wmb: the descriptors and the entry before the index
        ram.set(U16, avail - base + 2, (short) availIdx);
    }

    public int availIdx() {
        return availIdx;
    }

    public void availFlags(int flags) {
        ram.set(U16, avail - base, (short) flags);
    }

    /** used_event: the driver wants a call when the used index passes it. */
    public void usedEvent(int idx) {
        ram.set(U16, avail - base + 4 + 2L * size, (short) idx);
    }

    public int usedIdx() {
        int idx = ram.get(U16, used - base + 2) & 0xffff;
        VarHandle.acquireFence(); // virtio_rmb: what the device wrote before the index is read after it
        return idx;
    }

    public int usedFlags() {
        return ram.get(U16, used - base) & 0xffff;
    }

    public int usedId(int i) {
        return ram.get(U32, used - base + 4 + 8L * (i % size));
    }

    public int usedLen(int i) {
        return ram.get(U32, used - base + 4 + 8L * (i % size) + 4);
    }

    /** avail_event: the device wants a kick when the available index passes it. */
    public int availEvent() {
        return ram.get(U16, used - base + 4 + 8L * size) & 0xffff;
    }
}
