package io.keel.bdev.exec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A test range table: 16-byte entries of offset and blocks (two longs). Stateless, so one serves every thread. */
final class PairRanges implements BlockRanges {
    static final PairRanges FORMAT = new PairRanges();

    /** A table of the given (offset, blocks) pairs. */
    static MemorySegment table(long... offsetBlocksPairs) {
        MemorySegment t = Arena.ofAuto().allocate(offsetBlocksPairs.length * 8L, 8);
        for (int i = 0; i < offsetBlocksPairs.length; i++) {
            t.setAtIndex(ValueLayout.JAVA_LONG, i, offsetBlocksPairs[i]);
        }
        return t;
    }

    @Override
    public long offsetBlocks(MemorySegment table, int index) {
        return table.getAtIndex(ValueLayout.JAVA_LONG, 2L * index);
    }

    @Override
    public long numBlocks(MemorySegment table, int index) {
        return table.getAtIndex(ValueLayout.JAVA_LONG, 2L * index + 1);
    }
}
