package io.keel.bdev.raid;

/** A layout that spreads the raid's blocks over its members (raid0, concat); split an I/O with a {@link PieceCursor}. */
public sealed interface StripedLayout extends RaidLayout permits Raid0Layout, ConcatLayout {
    /** The strip size in blocks, a power of two. */
    int stripBlocks();

    /**
     * Puts into {@code out} the piece of the raid's blocks that starts at {@code lba}: the member holding that
     * block, its address there, and how many of the following blocks (at most {@code maxBlocks}) are contiguous
     * on that member. {@code lba} lies within the raid.
     */
    void locate(long lba, long maxBlocks, PieceCursor out);
}
