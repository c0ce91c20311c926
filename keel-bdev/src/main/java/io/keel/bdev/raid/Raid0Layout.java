package io.keel.bdev.raid;

import java.util.Objects;

/**
 * raid0: strip {@code s} of the raid ({@code stripBlocks} blocks) is strip {@code s / n} of member {@code s % n}.
 * Every member contributes the same number of blocks: the smallest data region rounded down to whole strips
 * ({@code raid0_start}), so the raid has {@code n} times that.
 */
public final class Raid0Layout implements StripedLayout {
    private final int members;
    private final int stripBlocks;
    private final int stripShift;
    private final long stripMask;
    private final long memberDataSize;

    Raid0Layout(int stripBlocks, long[] memberDataSizes) {
        this.members = memberDataSizes.length;
        this.stripBlocks = stripBlocks;
        this.stripShift = Integer.numberOfTrailingZeros(stripBlocks);
        this.stripMask = stripBlocks - 1;
        long min = Long.MAX_VALUE;
        for (long size : memberDataSizes) {
            min = Math.min(min, size);
        }
        this.memberDataSize = min & ~stripMask;
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID0;
    }

    @Override
    public int members() {
        return members;
    }

    @Override
    public int stripBlocks() {
        return stripBlocks;
    }

    @Override
    public long blockCount() {
        return memberDataSize * members;
    }

    @Override
    public long memberDataSize(int member) {
        Objects.checkIndex(member, members);
        return memberDataSize;
    }

    @Override
    public void locate(long lba, long maxBlocks, PieceCursor out) {
        if (members == 1) { // the raid is its one member: nothing to split (SPDK sets no I/O boundary then)
            out.piece(0, lba, maxBlocks);
            return;
        }
        long strip = lba >>> stripShift;
        long inStrip = lba & stripMask;
        out.piece((int) (strip % members), ((strip / members) << stripShift) + inStrip,
                Math.min(maxBlocks, stripBlocks - inStrip));
    }

    /**
     * For an I/O without data (unmap, flush), which goes to each member in one piece as SPDK's
     * {@code raid0_submit_null_payload_request} sends it: the first block of {@code member}'s part of the raid's
     * blocks {@code [offset, offset + blocks)}. Meaningful only where {@link #extentBlocks} is not 0.
     */
    public long extentOffset(long offset, long blocks, int member) {
        long firstStrip = offset >>> stripShift;
        long strip = firstStripOn(member, firstStrip);
        long start = (strip / members) << stripShift;
        return strip == firstStrip ? start + (offset & stripMask) : start;
    }

    /**
     * How many blocks of {@code member} the raid's blocks {@code [offset, offset + blocks)} cover, contiguous there
     * from {@link #extentOffset}; 0 when the range does not touch the member.
     */
    public long extentBlocks(long offset, long blocks, int member) {
        long last = offset + blocks - 1;
        long lastStrip = last >>> stripShift;
        if (firstStripOn(member, offset >>> stripShift) > lastStrip) {
            return 0;
        }
        long strip = lastStripOn(member, lastStrip);
        long end = ((strip / members) << stripShift) + (strip == lastStrip ? (last & stripMask) + 1 : stripBlocks);
        return end - extentOffset(offset, blocks, member);
    }

    /** The first raid strip at or after {@code from} that lies on {@code member}. */
    private long firstStripOn(int member, long from) {
        return from + Math.floorMod(member - from % members, members);
    }

    /** The last raid strip at or before {@code to} that lies on {@code member}. */
    private long lastStripOn(int member, long to) {
        return to - Math.floorMod(to % members - member, members);
    }
}
