package io.keel.bdev.raid;

import io.keel.bdev.VirtualBdevChannel;

/**
 * One thread's context of a {@link RaidBdev} ({@code struct raid_bdev_io_channel}): besides the channel per member
 * that {@link VirtualBdevChannel} keeps, the cursor that splits striped I/O and raid1's blocks of reads outstanding
 * per member on this thread, by which a read picks its member, and the read corrections it lends. Owner thread only;
 * allocates nothing per I/O.
 */
final class RaidChannel extends VirtualBdevChannel {
    private final RaidBdev raid;
    final PieceCursor cursor = new PieceCursor();
    /** By slot: blocks being read from the member on this thread (raid1). */
    final long[] readBlocks;

    /** Read corrections this thread runs at once at most; a read error beyond them is not corrected (counted). */
    static final int CORRECTIONS = 4;
    /** The read corrections not in use, a stack of {@link #freeCorrections} entries. */
    private final ReadCorrection[] corrections = new ReadCorrection[CORRECTIONS];
    private int freeCorrections;

    RaidChannel(RaidBdev bdev) {
        super(bdev);
        raid = bdev;
        readBlocks = new long[bdev.slots()];
        while (freeCorrections < CORRECTIONS) {
            corrections[freeCorrections++] = new ReadCorrection(this);
        }
    }

    /** A read correction to lend, or null when all are in use. */
    ReadCorrection takeCorrection() {
        return freeCorrections == 0 ? null : corrections[--freeCorrections];
    }

    void giveBack(ReadCorrection c) {
        corrections[freeCorrections++] = c;
    }

    /** Whether a read may go to the member in {@code slot}: it has a channel here and has not failed a write. */
    boolean readable(int slot) {
        return base(slot) != null && !raid.failed(slot);
    }

    /** Whether a slot other than {@code slot} is {@link #readable}. */
    boolean readableOtherThan(int slot) {
        for (int other = 0; other < readBlocks.length; other++) {
            if (other != slot && readable(other)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The readable slot with the fewest blocks being read from it on this thread, or -1 when no member is left
     * ({@code raid1_channel_next_read_base_bdev}).
     */
    int leastLoadedReadSlot() {
        int best = -1;
        for (int slot = 0; slot < readBlocks.length; slot++) {
            if (readable(slot) && (best < 0 || readBlocks[slot] < readBlocks[best])) {
                best = slot;
            }
        }
        return best;
    }
}
