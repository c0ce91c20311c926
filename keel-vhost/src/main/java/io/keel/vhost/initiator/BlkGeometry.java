package io.keel.vhost.initiator;

import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.blk.VirtioBlkConfig;
import io.keel.vhost.blk.VirtioBlkFeatures;

/**
 * What a virtio-blk device is, from its negotiated features and config space (as SPDK's {@code virtio_blk_dev_init}
 * reads them): block size (512 without BLK_SIZE), blocks (capacity is in 512-byte sectors; a partial block is
 * dropped), queues it has (1 without MQ), and how requests must be cut: at most {@code maxTransferBytes} of data per
 * request in descriptors of at most {@code segmentBytes} (SIZE_MAX), at most {@code dataDescriptors} of them
 * (SEG_MAX); discards and write zeroes of at most so many blocks.
 */
record BlkGeometry(long features, int blockSize, long numBlocks, int deviceQueues, int maxTransferBytes,
        int segmentBytes, int dataDescriptors, long maxDiscardBlocks, long maxWriteZeroesBlocks) {
    /** Data one request carries at most: larger I/O goes as several requests, one after another. */
    static final int MAX_TRANSFER_BYTES = 128 * 1024;

    static BlkGeometry of(VirtioBlkConfig c, long features) {
        int blockSize = has(features, VirtioBlkFeatures.BLK_SIZE) ? c.blkSize() : VirtioBlk.SECTOR_BYTES;
        if (blockSize < VirtioBlk.SECTOR_BYTES || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("invalid block size " + Integer.toUnsignedString(blockSize));
        }
        long numBlocks = c.capacity() / (blockSize / VirtioBlk.SECTOR_BYTES);
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("capacity of " + c.capacity() + " sectors holds no block of "
                    + blockSize + " bytes");
        }
        int queues = has(features, VirtioBlkFeatures.MQ) ? Math.max(1, c.numQueues()) : 1;
        int maxTransfer = Math.max(MAX_TRANSFER_BYTES, blockSize);
        int segment = maxTransfer;
        if (has(features, VirtioBlkFeatures.SIZE_MAX) && c.sizeMax() != 0) {
            segment = Math.max(blockSize, (int) Math.min(Integer.toUnsignedLong(c.sizeMax()), maxTransfer));
        }
        int descs = (maxTransfer + segment - 1) / segment;
        if (has(features, VirtioBlkFeatures.SEG_MAX)) {
            if (c.segMax() == 0) {
                throw new IllegalArgumentException("seg_max is 0");
            }
            if (Integer.compareUnsigned(c.segMax(), descs) < 0) {
                descs = c.segMax();
                maxTransfer = Math.max(blockSize, (int) ((long) descs * segment / blockSize * blockSize));
            }
        }
        long sectorsPerBlock = blockSize / VirtioBlk.SECTOR_BYTES;
        return new BlkGeometry(features, blockSize, numBlocks, queues, maxTransfer, segment, descs,
                blocksOf(c.maxDiscardSectors(), sectorsPerBlock), blocksOf(c.maxWriteZeroesSectors(), sectorsPerBlock));
    }

    /** A limit in sectors as whole blocks (0 sectors: the 32-bit field's own bound). */
    private static long blocksOf(int sectors, long sectorsPerBlock) {
        long s = sectors == 0 ? 0xFFFF_FFFFL : Integer.toUnsignedLong(sectors);
        return Math.max(1, s / sectorsPerBlock);
    }

    static boolean has(long features, int bit) {
        return (features & 1L << bit) != 0;
    }

    boolean has(int bit) {
        return has(features, bit);
    }

    /** Descriptors one request takes at most: header, data, status byte. */
    int descriptorsPerRequest() {
        return dataDescriptors + 2;
    }
}
