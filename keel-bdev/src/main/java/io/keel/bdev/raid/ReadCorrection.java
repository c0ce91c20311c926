package io.keel.bdev.raid;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import java.util.function.IntConsumer;

/**
 * One raid1 read being corrected ({@code raid1_correct_read_error}): its first member failed it, so its raid range
 * is locked against writes, it is read from another member, that good data is written back to the member that
 * failed, the range is unlocked and only then the read completes (its buffer is the write-back's source). The lock
 * keeps a write from landing between the good read and the write-back, which would leave the members different.
 * A {@link RaidChannel} makes a few of these with itself and lends them out, so a correction allocates no context
 * of its own. Owner thread of the read's channel only.
 */
final class ReadCorrection {
    private final RaidChannel owner;
    private final IntConsumer lockedFn = this::locked;
    private final IntConsumer unlockedFn = this::unlocked;
    private BdevIo read;
    private BdevDesc lockDesc;
    private int failedSlot;
    private BdevIoStatus outcome;

    ReadCorrection(RaidChannel owner) {
        this.owner = owner;
    }

    /**
     * Asks for the lock on {@code read}'s range through {@code lockDesc}, without waiting behind another lock (its
     * holder may be the one reading); returns 0, or the refusal (this correction then goes back to its channel).
     */
    int start(BdevIo read, int failedSlot, BdevDesc lockDesc) {
        this.read = read;
        this.failedSlot = failedSlot;
        this.lockDesc = lockDesc;
        read.moduleContext = this;
        int rc = lockDesc.tryLockLbaRange(read.channel(), read.offsetBlocks(), read.numBlocks(), lockedFn);
        if (rc != 0) {
            release();
        }
        return rc;
    }

    /** The read being corrected. */
    BdevIo read() {
        return read;
    }

    /** The slot of the member that failed the read, which the good data goes back to. */
    int failedSlot() {
        return failedSlot;
    }

    private void locked(int rc) {
        RaidBdev raid = (RaidBdev) read.bdev();
        if (rc != 0) { // cancelled: the read's channel is being released; the read goes on uncorrected
            BdevIo io = release();
            raid.correctionSkipped();
            raid.readOther(io);
            return;
        }
        raid.readOther(read);
    }

    /** The correction is over (the read's {@code status}): unlocks the range, then completes the read. */
    void finish(BdevIoStatus status) {
        outcome = status;
        int rc = lockDesc.unlockLbaRange(read.channel(), read.offsetBlocks(), read.numBlocks(), unlockedFn);
        if (rc != 0) { // the read's channel is being released: it has let go of the lock itself
            unlocked(rc);
        }
    }

    private void unlocked(int rc) {
        BdevIoStatus status = outcome;
        release().complete(status);
    }

    /** Detaches this from its read and gives it back to its channel; returns the read. */
    private BdevIo release() {
        BdevIo io = read;
        io.moduleContext = null;
        read = null;
        lockDesc = null;
        owner.giveBack(this);
        return io;
    }
}
