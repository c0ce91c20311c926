package io.keel.bdev.raid;

/**
 * Where a raid's blocks live on its members, and how many blocks the raid has: the geometry each level computes
 * in its {@code start} callback (SPDK's {@code raid0_start}, {@code concat_start}, {@code raid1_start}).
 *
 * <p>Member addresses here are relative to the member's data region: the raid bdev adds the member's
 * {@code data_offset} (the blocks its superblock reserves) when it submits, as SPDK's
 * {@code raid_bdev_readv_blocks_ext} does. Built once when the raid starts; immutable, so every thread may use it.
 */
public sealed interface RaidLayout permits StripedLayout, Raid1Layout {
    /** The most members a raid has (the superblock counts them in one byte). */
    int MAX_MEMBERS = 255;

    RaidLevel level();

    int members();

    /** The raid bdev's size in blocks. */
    long blockCount();

    /**
     * The blocks of {@code member}'s data region the raid uses: its data size rounded as the level requires, what
     * SPDK then reports as the member's {@code data_size}.
     */
    long memberDataSize(int member);

    /**
     * The layout of a raid of {@code level} on members whose data regions hold {@code memberDataSizes} blocks
     * (each member's size less its data offset). {@code stripBlocks} is the strip size in blocks, a power of two
     * for raid0 and concat, ignored for raid1.
     *
     * @throws IllegalArgumentException if there are no members or more than {@link #MAX_MEMBERS}, a size is
     *         negative, or the strip size is not a power of two on a striped level
     */
    static RaidLayout of(RaidLevel level, int stripBlocks, long... memberDataSizes) {
        if (memberDataSizes.length == 0 || memberDataSizes.length > MAX_MEMBERS) {
            throw new IllegalArgumentException("a raid has 1 to " + MAX_MEMBERS + " members, not "
                    + memberDataSizes.length);
        }
        for (long size : memberDataSizes) {
            if (size < 0) {
                throw new IllegalArgumentException("negative member data size " + size);
            }
        }
        if (level.striped() && (stripBlocks <= 0 || Integer.bitCount(stripBlocks) != 1)) {
            throw new IllegalArgumentException("strip size of " + stripBlocks + " blocks is not a power of two");
        }
        return switch (level) {
            case RAID0 -> new Raid0Layout(stripBlocks, memberDataSizes);
            case CONCAT -> new ConcatLayout(stripBlocks, memberDataSizes);
            case RAID1 -> new Raid1Layout(memberDataSizes);
        };
    }

    /**
     * A strip size given in KiB ({@code strip_size_kb}) in blocks of {@code blockSize} bytes, as SPDK's
     * {@code raid_bdev_configure} converts it; 0 when the strip is smaller than a block, which SPDK refuses for
     * the striped levels ("Strip size cannot be smaller than the device block size").
     */
    static int stripBlocks(int stripSizeKb, int blockSize) {
        return (int) (stripSizeKb * 1024L / blockSize);
    }
}
