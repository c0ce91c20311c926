package io.keel.bdev.raid;

import io.keel.bdev.VirtualBdevChannel;

/**
 * One thread's context of a {@link RaidBdev} ({@code struct raid_bdev_io_channel}): besides the channel per member
 * that {@link VirtualBdevChannel} keeps, the cursor that splits striped I/O and raid1's blocks of reads outstanding
 * per member on this thread, by which a read picks its member. Owner thread only; allocates nothing per I/O.
 */
final class RaidChannel extends VirtualBdevChannel {
    private final RaidBdev raid;
    final PieceCursor cursor = new PieceCursor();
    /** By slot: blocks being read from the member on this thread (raid1). */
    final long[] readBlocks;

    RaidChannel(RaidBdev bdev) {
        super(bdev);
        raid = bdev;
        readBlocks = new long[bdev.slots()];
    }

    /** Whether a read may go to the member in {@code slot}: it has a channel here and has not failed a write. */
    boolean readable(int slot) {
        return base(slot) != null && !raid.failed(slot);
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
