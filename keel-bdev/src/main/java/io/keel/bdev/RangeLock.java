package io.keel.bdev;

import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One LBA range lock (SPDK's {@code lba_range} with its {@code locked_lba_range_ctx}): blocks
 * [{@code offset}, {@code offset + numBlocks}) of a bdev, taken through a descriptor on a channel, its holder.
 * While it is recorded on a channel, writes there that overlap it wait; once it is held, the holder's own writes
 * (that descriptor on that channel) go through. Its state and callback belong to the holder's thread.
 */
final class RangeLock {
    private static final Logger LOG = LoggerFactory.getLogger(RangeLock.class);

    enum State {
        /** Queued behind an overlapping lock (SPDK's pending locked ranges). */
        WAITING,
        /** Being recorded on every channel, each answering once its overlapping writes in flight are done. */
        ACQUIRING,
        HELD,
        /** Being taken off every channel (an unlock, or the holder's channel going away). */
        RELEASING,
        DONE
    }

    final long offset;
    final long numBlocks;
    final BdevChannel holder;
    final BdevDesc desc;
    State state = State.WAITING;
    /** Who hears how the lock, then its unlock, ended (on the holder's thread); null when nobody waits. */
    IntConsumer callback;
    /** What {@link #callback} hears when the lock is over: 0 for an unlock, -ECANCELED for a lock never granted. */
    int outcome;

    RangeLock(long offset, long numBlocks, BdevChannel holder, BdevDesc desc, IntConsumer callback) {
        this.offset = offset;
        this.numBlocks = numBlocks;
        this.holder = holder;
        this.desc = desc;
        this.callback = callback;
    }

    boolean overlaps(long otherOffset, long otherBlocks) {
        return otherOffset < offset + numBlocks && offset < otherOffset + otherBlocks;
    }

    boolean overlaps(RangeLock other) {
        return overlaps(other.offset, other.numBlocks);
    }

    /** Whether {@code write}, which overlaps this range, must wait: all but the holder's own once the lock is held. */
    boolean holdsBack(BdevIo write) {
        return write.channel() != holder || write.desc() != desc || state != State.HELD; // state: holder thread here
    }

    /** Runs the callback, once, with {@code status}. */
    void answer(int status) {
        IntConsumer cb = callback;
        callback = null;
        if (cb == null) {
            return;
        }
        try {
            cb.accept(status);
        } catch (RuntimeException e) {
            LOG.error("bdev {}: range lock {} callback failed", holder.bdev().name(), this, e);
        }
    }

    @Override
    public String toString() {
        return "[" + offset + ", +" + numBlocks + ") " + state;
    }
}
