package io.keel.vhost.testing;

import io.keel.vhost.virtio.SplitRing;
import io.keel.vhost.virtio.SplitRingDriver;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The driver's side of a split virtqueue laid out in {@link GuestRam} from guest-physical {@code at}: descriptor
 * table, then the available ring, then (4-aligned) the used ring, driven through {@link SplitRingDriver} (what the
 * virtio-user initiator uses). The test writes descriptors and makes heads available as a guest's virtio driver
 * would, and reads what the device put in the used ring; it also writes indirect tables and the event-idx fields,
 * which the initiator does not use.
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
    private final SplitRingDriver driver;

    public DriverRing(GuestRam ram, long at, int size) {
        this.ram = ram.bytes();
        this.base = ram.base();
        this.size = size;
        this.desc = at;
        this.avail = at + SplitRingDriver.availOffset(size);
        this.used = at + SplitRingDriver.usedOffset(size);
        this.driver = new SplitRingDriver(this.ram.asSlice(at - base, SplitRingDriver.bytes(size)), size);
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
        return desc + SplitRingDriver.bytes(size);
    }

    /** Writes descriptor {@code i} of the ring's table. */
    public DriverRing desc(int i, long addr, int len, int flags, int next) {
        driver.desc(i, addr, len, flags, next);
        return this;
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
        driver.makeAvailable(head);
        driver.publish();
    }

    public int availIdx() {
        return driver.availIdx();
    }

    public void availFlags(int flags) {
        driver.availFlags(flags);
    }

    /** used_event: the driver wants a call when the used index passes it. */
    public void usedEvent(int idx) {
        ram.set(U16, avail - base + SplitRing.usedEventOffset(size), (short) idx);
    }

    public int usedIdx() {
        return driver.usedIdx();
    }

    public int usedFlags() {
        return driver.usedFlags();
    }

    public int usedId(int i) {
        return driver.usedId(i);
    }

    public int usedLen(int i) {
        return driver.usedLen(i);
    }

    /** avail_event: the device wants a kick when the available index passes it. */
    public int availEvent() {
        return ram.get(U16, used - base + SplitRing.availEventOffset(size)) & 0xffff;
    }
}
