package io.keel.bdev.exec;

import java.lang.foreign.MemorySegment;

/**
 * How a transport's table of block ranges reads (NVMe Dataset Management ranges, virtio-blk discard and write
 * zeroes segments): entry {@code index} of {@code table} as blocks of the bdev. The transport checked every entry
 * before it submitted; the executor reads each again when it submits that range. Called on the executor's thread.
 */
public interface BlockRanges {
    long offsetBlocks(MemorySegment table, int index);

    /** Blocks of entry {@code index}; an entry of 0 blocks is skipped. */
    long numBlocks(MemorySegment table, int index);
}
