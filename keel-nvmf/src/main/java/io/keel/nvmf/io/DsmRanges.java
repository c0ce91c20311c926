package io.keel.nvmf.io;

import io.keel.bdev.exec.BlockRanges;
import io.keel.nvme.spec.DsmRange;
import java.lang.foreign.MemorySegment;

/** A Dataset Management command's range table as the request executor reads it. One per queue: it has a flyweight. */
final class DsmRanges implements BlockRanges {
    private final DsmRange range = new DsmRange();

    /** Entry {@code index} of {@code table}. */
    DsmRange at(MemorySegment table, int index) {
        return range.wrap(table, (long) index * DsmRange.SIZE);
    }

    @Override
    public long offsetBlocks(MemorySegment table, int index) {
        return at(table, index).slba();
    }

    @Override
    public long numBlocks(MemorySegment table, int index) {
        return at(table, index).length();
    }
}
