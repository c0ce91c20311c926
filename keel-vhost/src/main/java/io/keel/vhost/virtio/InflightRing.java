package io.keel.vhost.virtio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * One split queue's part of the vhost-user inflight region (INFLIGHT_SHMFD), laid out as QEMU and libvhost-user do:
 * {@code u64 features, u16 version, u16 desc_num, u16 last_batch_head, u16 used_idx}, then per descriptor head
 * {@code u8 inflight, u8 padding[5], u16 next, u64 counter}. The back end marks a head when it pops it and clears it
 * once the used index has moved past it, then records that index; so after a reconnect (the region outlives the back
 * end's process, QEMU keeps its fd) the requests the guest still waits for are found and submitted again.
 * {@code last_batch_head} is not used: heads completed between the recorded index and the ring's are read from the
 * used ring itself, however many a batch had.
 */
public final class InflightRing {
    static final long HEADER_BYTES = 16;
    static final long DESC_BYTES = 16;
    private static final long VERSION = 8;
    private static final long DESC_NUM = 10;
    private static final long USED_IDX = 14;
    private static final long D_INFLIGHT = 0;
    private static final long D_COUNTER = 8;

    private final MemorySegment region;
    private long counter;

    /** Views {@code region} (at least {@link #bytes}{@code (queueSize)}). */
    public InflightRing(MemorySegment region) {
        this.region = region;
    }

    /** Bytes one queue of {@code queueSize} takes, 64-byte aligned as the other back ends size it. */
    public static long bytes(int queueSize) {
        return (HEADER_BYTES + DESC_BYTES * queueSize + 63) & ~63L;
    }

    /** Writes a fresh queue header (a region the back end just made). */
    public static void initialize(MemorySegment queueRegion, int queueSize) {
        queueRegion.set(ValueLayout.JAVA_SHORT_UNALIGNED, VERSION, (short) 1);
        queueRegion.set(ValueLayout.JAVA_SHORT_UNALIGNED, DESC_NUM, (short) queueSize);
    }

    void popped(int head) {
        long at = HEADER_BYTES + DESC_BYTES * head;
        region.set(ValueLayout.JAVA_LONG_UNALIGNED, at + D_COUNTER, ++counter);
        region.set(ValueLayout.JAVA_BYTE, at + D_INFLIGHT, (byte) 1);
    }

    /** After the used ring's index moved past {@code head}. */
    void completed(int head) {
        region.set(ValueLayout.JAVA_BYTE, HEADER_BYTES + DESC_BYTES * head + D_INFLIGHT, (byte) 0);
    }

    /** After the heads before {@code usedIdx} were unmarked: the used index the region is in step with. */
    void usedIndex(int usedIdx) {
        VarHandle.releaseFence();
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, USED_IDX, (short) usedIdx);
    }

    /**
     * At a queue's start: the heads still marked in flight, oldest first. When the used ring got further than the
     * region recorded (the back end died between the two), the heads of the used elements in between
     * ({@code usedHead} of each used index) are unmarked first: the guest has them.
     */
    List<Integer> pending(int queueSize, int ringUsedIdx, IntUnaryOperator usedHead) {
        int recorded = region.get(ValueLayout.JAVA_SHORT_UNALIGNED, USED_IDX) & 0xffff;
        if (recorded != ringUsedIdx) {
            if (((ringUsedIdx - recorded) & 0xffff) <= queueSize) { // else not ours to trust: nothing unmarked
                for (int i = recorded; i != ringUsedIdx; i = (i + 1) & 0xffff) {
                    int head = usedHead.applyAsInt(i);
                    if (head >= 0 && head < queueSize) {
                        region.set(ValueLayout.JAVA_BYTE, HEADER_BYTES + DESC_BYTES * head + D_INFLIGHT, (byte) 0);
                    }
                }
            }
            region.set(ValueLayout.JAVA_SHORT_UNALIGNED, USED_IDX, (short) ringUsedIdx);
        }
        List<Integer> heads = new ArrayList<>();
        for (int h = 0; h < queueSize; h++) {
            long at = HEADER_BYTES + DESC_BYTES * h;
            counter = Math.max(counter, region.get(ValueLayout.JAVA_LONG_UNALIGNED, at + D_COUNTER));
            if (region.get(ValueLayout.JAVA_BYTE, at + D_INFLIGHT) != 0) {
                heads.add(h);
            }
        }
        heads.sort(Comparator.comparingLong(h -> region.get(ValueLayout.JAVA_LONG_UNALIGNED,
                HEADER_BYTES + DESC_BYTES * h + D_COUNTER)));
        return heads;
    }
}
