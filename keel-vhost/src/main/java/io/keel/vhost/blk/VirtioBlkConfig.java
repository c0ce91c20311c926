package io.keel.vhost.blk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * virtio-blk's config space ({@code struct virtio_blk_config}, virtio 1.1 section 5.2.4) as a flyweight over its 60
 * bytes, little-endian: capacity (512-byte sectors) at 0, size_max 8, seg_max 12, geometry 16 (cylinders u16, heads
 * u8, sectors u8), blk_size 20, topology 24 (physical_block_exp u8, alignment_offset u8, min_io_size u16,
 * opt_io_size u32), writeback 32, num_queues 34 (u16), max_discard_sectors 36, max_discard_seg 40,
 * discard_sector_alignment 44, max_write_zeroes_sectors 48, max_write_zeroes_seg 52, write_zeroes_may_unmap 56 (u8),
 * 3 bytes unused. Fields a feature bit governs are read by the driver only when that bit is negotiated; a front end
 * asking for more bytes (newer spec versions) gets zeros beyond.
 */
public final class VirtioBlkConfig {
    public static final int BYTES = 60;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final MemorySegment bytes;

    public VirtioBlkConfig(SegmentAllocator arena) {
        this(arena.allocate(BYTES, 8));
    }

    /** A view of {@code bytes} (at least {@link #BYTES}). */
    public VirtioBlkConfig(MemorySegment bytes) {
        this.bytes = bytes;
    }

    /** The config space, as {@link io.keel.vhost.user.VhostUserDevice#configSpace} gives it. */
    public MemorySegment bytes() {
        return bytes;
    }

    public VirtioBlkConfig capacity(long sectors) {
        bytes.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sectors);
        return this;
    }

    public long capacity() {
        return bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    public VirtioBlkConfig sizeMax(int max) {
        bytes.set(U32, 8, max);
        return this;
    }

    public int sizeMax() {
        return bytes.get(U32, 8);
    }

    public VirtioBlkConfig segMax(int max) {
        bytes.set(U32, 12, max);
        return this;
    }

    public int segMax() {
        return bytes.get(U32, 12);
    }

    public VirtioBlkConfig blkSize(int size) {
        bytes.set(U32, 20, size);
        return this;
    }

    public int blkSize() {
        return bytes.get(U32, 20);
    }

    public VirtioBlkConfig writeback(boolean on) {
        bytes.set(ValueLayout.JAVA_BYTE, 32, (byte) (on ? 1 : 0));
        return this;
    }

    public boolean writeback() {
        return bytes.get(ValueLayout.JAVA_BYTE, 32) != 0;
    }

    public VirtioBlkConfig numQueues(int queues) {
        bytes.set(U16, 34, (short) queues);
        return this;
    }

    public int numQueues() {
        return bytes.get(U16, 34) & 0xffff;
    }

    public VirtioBlkConfig maxDiscardSectors(int sectors) {
        bytes.set(U32, 36, sectors);
        return this;
    }

    public int maxDiscardSectors() {
        return bytes.get(U32, 36);
    }

    public VirtioBlkConfig maxDiscardSeg(int segments) {
        bytes.set(U32, 40, segments);
        return this;
    }

    public VirtioBlkConfig discardSectorAlignment(int sectors) {
        bytes.set(U32, 44, sectors);
        return this;
    }

    public VirtioBlkConfig maxWriteZeroesSectors(int sectors) {
        bytes.set(U32, 48, sectors);
        return this;
    }

    public int maxWriteZeroesSectors() {
        return bytes.get(U32, 48);
    }

    public VirtioBlkConfig maxWriteZeroesSeg(int segments) {
        bytes.set(U32, 52, segments);
        return this;
    }

    public VirtioBlkConfig writeZeroesMayUnmap(boolean may) {
        bytes.set(ValueLayout.JAVA_BYTE, 56, (byte) (may ? 1 : 0));
        return this;
    }
}
