package io.keel.bdev.raid;

import java.util.Objects;

/**
 * raid1: every member holds every block at the raid's own address, so there is nothing to map. The raid has as
 * many blocks as the smallest data region ({@code raid1_start}), and every member contributes that many.
 */
public final class Raid1Layout implements RaidLayout {
    private final int members;
    private final long blockCount;

    Raid1Layout(long[] memberDataSizes) {
        this.members = memberDataSizes.length;
        long min = Long.MAX_VALUE;
        for (long size : memberDataSizes) {
            min = Math.min(min, size);
        }
        this.blockCount = min;
    }

    @Override
    public RaidLevel level() {
        return RaidLevel.RAID1;
    }

    @Override
    public int members() {
        return members;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    @Override
    public long memberDataSize(int member) {
        Objects.checkIndex(member, members);
        return blockCount;
    }
}
