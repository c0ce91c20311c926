package io.keel.vhost.blk;

import io.keel.bdev.exec.BlockRanges;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** virtio-blk discard and write zeroes segments (sector u64, num_sectors u32, flags u32) as blocks of a bdev. */
final class BlkRanges implements BlockRanges {
    private final int sectorsPerBlockShift;

    /** For a bdev of {@code blockSize} bytes (a power of two, at least 512). */
    BlkRanges(int blockSize) {
        sectorsPerBlockShift = Integer.numberOfTrailingZeros(blockSize / VirtioBlk.SECTOR_BYTES);
    }

    static long sector(MemorySegment table, int index) {
        return table.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) VirtioBlk.RANGE_BYTES * index);
    }

    static long sectors(MemorySegment table, int index) {
        return table.get(ValueLayout.JAVA_INT_UNALIGNED, (long) VirtioBlk.RANGE_BYTES * index + 8) & 0xffff_ffffL;
    }

    static int flags(MemorySegment table, int index) {
        return table.get(ValueLayout.JAVA_INT_UNALIGNED, (long) VirtioBlk.RANGE_BYTES * index + 12);
    }

    @Override
    public long offsetBlocks(MemorySegment table, int index) {
        return sector(table, index) >>> sectorsPerBlockShift;
    }

    @Override
    public long numBlocks(MemorySegment table, int index) {
        return sectors(table, index) >>> sectorsPerBlockShift;
    }
}
