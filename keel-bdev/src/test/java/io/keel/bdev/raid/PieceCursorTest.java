package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Splitting raid0 and concat I/O into member pieces, by hand, against a block-by-block model, and without allocating. */
class PieceCursorTest {
    record Piece(int member, long memberLba, long blocks, long parentOffset) {
    }

    private static List<Piece> pieces(StripedLayout layout, long offset, long blocks) {
        List<Piece> out = new ArrayList<>();
        PieceCursor c = new PieceCursor().start(layout, offset, blocks);
        while (c.next()) {
            out.add(new Piece(c.member(), c.memberLba(), c.blocks(), c.parentOffset()));
        }
        return out;
    }

    @Test
    void raid0SplitsAtStripBoundaries() {
        // 3 members, strips of 4 blocks: raid strip s is strip s / 3 of member s % 3
        StripedLayout r0 = (StripedLayout) RaidLayout.of(RaidLevel.RAID0, 4, 100, 100, 100);
        assertThat(pieces(r0, 10, 9)).containsExactly(
                new Piece(2, 2, 2, 0),  // blocks 10-11: the end of strip 2
                new Piece(0, 4, 4, 2),  // blocks 12-15: strip 3, member 0's second strip
                new Piece(1, 4, 3, 6)); // blocks 16-18: strip 4
        assertThat(pieces(r0, 5, 2)).as("within one strip").containsExactly(new Piece(1, 1, 2, 0));
        assertThat(pieces(r0, 295, 1)).as("the last block").containsExactly(new Piece(1, 99, 1, 0));
    }

    @Test
    void raid0OfOneMemberIsNotSplit() {
        StripedLayout r0 = (StripedLayout) RaidLayout.of(RaidLevel.RAID0, 4, 100);
        assertThat(pieces(r0, 3, 90)).containsExactly(new Piece(0, 3, 90, 0));
    }

    @Test
    void concatSplitsWhereAMemberEnds() {
        // strips of 4: members of 10, 3 and 9 blocks contribute 8, 0 and 8
        StripedLayout c = (StripedLayout) RaidLayout.of(RaidLevel.CONCAT, 4, 10, 3, 9);
        assertThat(pieces(c, 6, 6)).containsExactly(
                new Piece(0, 6, 2, 0),
                new Piece(2, 0, 4, 2)); // the empty member 1 is skipped
        assertThat(pieces(c, 0, 16)).containsExactly(new Piece(0, 0, 8, 0), new Piece(2, 0, 8, 8));
        assertThat(pieces(c, 9, 3)).as("strips do not split concat I/O").containsExactly(new Piece(2, 1, 3, 0));
    }

    @Test
    void everyBlockLandsWhereTheLevelPutsIt() {
        Random rnd = new Random(42);
        for (int round = 0; round < 300; round++) {
            int members = 1 + rnd.nextInt(6);
            int strip = 1 << rnd.nextInt(5);
            long[] sizes = new long[members];
            for (int i = 0; i < members; i++) {
                sizes[i] = rnd.nextInt(200);
            }
            RaidLevel level = rnd.nextBoolean() ? RaidLevel.RAID0 : RaidLevel.CONCAT;
            StripedLayout layout = (StripedLayout) RaidLayout.of(level, strip, sizes);
            if (layout.blockCount() == 0) {
                continue;
            }
            long offset = rnd.nextLong(layout.blockCount());
            long blocks = 1 + rnd.nextLong(layout.blockCount() - offset);
            long expectedParentOffset = 0;
            for (Piece p : pieces(layout, offset, blocks)) {
                assertThat(p.parentOffset()).isEqualTo(expectedParentOffset);
                assertThat(p.memberLba() + p.blocks()).isLessThanOrEqualTo(layout.memberDataSize(p.member()));
                for (long b = 0; b < p.blocks(); b++) {
                    long lba = offset + p.parentOffset() + b;
                    assertThat(new long[] {p.member(), p.memberLba() + b})
                            .as("%s block %d", level, lba).containsExactly(whereIs(layout, lba));
                }
                expectedParentOffset += p.blocks();
            }
            assertThat(expectedParentOffset).isEqualTo(blocks);
        }
    }

    /** Member and member address of one raid block, straight from the definitions. */
    private static long[] whereIs(StripedLayout layout, long lba) {
        if (layout instanceof Raid0Layout) {
            long strip = lba / layout.stripBlocks();
            return new long[] {strip % layout.members(),
                    strip / layout.members() * layout.stripBlocks() + lba % layout.stripBlocks()};
        }
        long start = 0;
        for (int m = 0; ; m++) {
            if (lba < start + layout.memberDataSize(m)) {
                return new long[] {m, lba - start};
            }
            start += layout.memberDataSize(m);
        }
    }

    @Test
    void raid0ExtentsGiveEachMemberOnePieceOfAnUnmap() {
        Raid0Layout r0 = (Raid0Layout) RaidLayout.of(RaidLevel.RAID0, 4, 100, 100, 100);
        // blocks 2..31 cover strips 0..7: member 0 has strips 0 (from block 2), 3, 6; member 1 has 1, 4, 7; member 2 has 2, 5
        assertThat(r0.extentOffset(2, 30, 0)).isEqualTo(2);
        assertThat(r0.extentBlocks(2, 30, 0)).isEqualTo(10);
        assertThat(r0.extentOffset(2, 30, 1)).isZero();
        assertThat(r0.extentBlocks(2, 30, 1)).isEqualTo(12);
        assertThat(r0.extentOffset(2, 30, 2)).isZero();
        assertThat(r0.extentBlocks(2, 30, 2)).isEqualTo(8);
        assertThat(r0.extentBlocks(5, 2, 0)).as("a range within member 1's strip").isZero();
        assertThat(r0.extentBlocks(5, 2, 2)).isZero();
        assertThat(r0.extentBlocks(5, 2, 1)).isEqualTo(2);

        Random rnd = new Random(7);
        for (int round = 0; round < 300; round++) {
            int members = 1 + rnd.nextInt(5);
            Raid0Layout r = (Raid0Layout) RaidLayout.of(RaidLevel.RAID0, 1 << rnd.nextInt(4), filled(members, 64));
            long offset = rnd.nextLong(r.blockCount());
            long blocks = 1 + rnd.nextLong(r.blockCount() - offset);
            for (int m = 0; m < members; m++) {
                long first = Long.MAX_VALUE;
                long count = 0;
                for (long lba = offset; lba < offset + blocks; lba++) {
                    long[] at = whereIs(r, lba);
                    if (at[0] == m) {
                        first = Math.min(first, at[1]);
                        count++;
                    }
                }
                assertThat(r.extentBlocks(offset, blocks, m)).isEqualTo(count);
                if (count > 0) {
                    assertThat(r.extentOffset(offset, blocks, m)).isEqualTo(first);
                }
            }
        }
    }

    private static long[] filled(int n, long size) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, size);
        return a;
    }

    @Test
    void refusesARangeOutsideTheRaid() {
        StripedLayout r0 = (StripedLayout) RaidLayout.of(RaidLevel.RAID0, 4, 8, 8);
        PieceCursor c = new PieceCursor();
        assertThatThrownBy(() -> c.start(r0, 10, 7)).hasMessageContaining("not within the raid's 16");
        assertThatThrownBy(() -> c.start(r0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.start(r0, -1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.start(r0, Long.MAX_VALUE, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void splittingAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        StripedLayout r0 = (StripedLayout) RaidLayout.of(RaidLevel.RAID0, 8, 1 << 20, 1 << 20, 1 << 20, 1 << 20);
        StripedLayout concat = (StripedLayout) RaidLayout.of(RaidLevel.CONCAT, 8, 1000, 1 << 20, 5000);
        PieceCursor c = new PieceCursor();
        long sink = split(c, r0, concat, 50_000); // warm up: let the JIT compile the loop
        long before = threads.getCurrentThreadAllocatedBytes();
        sink += split(c, r0, concat, 200_000);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(sink).isPositive();
        assertThat(allocated).as("bytes allocated for 400000 split I/Os").isLessThan(1024);
    }

    private static long split(PieceCursor c, StripedLayout r0, StripedLayout concat, int ios) {
        long sum = 0;
        for (int i = 0; i < ios; i++) {
            c.start(r0, (i * 7919L) % 4_000_000, 1 + i % 64);
            while (c.next()) {
                sum += c.member() + c.memberLba() + c.blocks() + c.parentOffset();
            }
            c.start(concat, (i * 104_729L) % 1_000_000, 1 + i % 64);
            while (c.next()) {
                sum += c.member() + c.memberLba();
            }
        }
        return sum;
    }
}
