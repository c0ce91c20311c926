package io.keel.bdev.raid;

import java.util.Objects;

/**
 * concat: the members' data regions one after the other, each rounded down to whole strips ({@code concat_start}),
 * so the raid has the sum of the rounded sizes. A member smaller than a strip contributes nothing.
 */
public final class ConcatLayout implements StripedLayout {
    private final int stripBlocks;
    /** Where each member's blocks start in the raid, and how many there are. */
    private final long[] starts;
    private final long[] sizes;
    private final long blockCount;

    ConcatLayout(int stripBlocks, long[] memberDataSizes) {
        this.stripBlocks = stripBlocks;
        this.starts = new long[memberDataSizes.length];
        this.sizes = new long[memberDataSizes.length];
        long total = 0;
        for (int i = 0; i < memberDataSizes.length; i++) {
            starts[i] = total;
            sizes[i] = memberDataSizes[i] & -(long) stripBlocks;
            total += sizes[i];
        }
        this.blockCount = total;
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.CONCAT;
    }

    @Override
    public int members() {
        return sizes.length;
    }

    @Override
    public int stripBlocks() {
        return stripBlocks;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    @Override
    public long memberDataSize(int member) {
        Objects.checkIndex(member, sizes.length);
        return sizes[member];
    }

    /** Pieces end only where a member ends: strips do not matter to concat's addressing. */
    @Override
    public void locate(long lba, long maxBlocks, PieceCursor out) {
        int m = 0;
        while (lba >= starts[m] + sizes[m]) { // a linear scan, as SPDK's: members are few
            m++;
        }
        out.piece(m, lba - starts[m], Math.min(maxBlocks, starts[m] + sizes[m] - lba));
    }
}
