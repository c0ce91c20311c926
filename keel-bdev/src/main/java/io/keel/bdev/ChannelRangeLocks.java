package io.keel.bdev;

import io.keel.core.rpc.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * One channel's side of its bdev's LBA range locks ({@link RangeLocks}): the locks recorded here, the writes they
 * hold back, the writes in flight a lock being acquired waits for, and the locks taken through this channel. Owner
 * thread only.
 *
 * <p>While no lock is recorded, a write costs one emptiness check and its place in {@link WritesInFlight}. A write
 * that overlaps a recorded lock (and is not its holder's own, once held) waits in a FIFO, not started and still
 * outstanding, until an unlock resubmits it; reads never wait. A lock arriving here answers at once if no write in
 * flight overlaps it, else when the last of those completes: no new overlapping write starts meanwhile, since the
 * lock is recorded first and not yet held by anyone.
 */
final class ChannelRangeLocks {
    /** A lock being acquired that waits here for overlapping writes in flight. */
    private static final class Acquisition {
        final RangeLock lock;
        final ChannelFanOut fanOut;
        int writesLeft;

        Acquisition(RangeLock lock, ChannelFanOut fanOut, int writesLeft) {
            this.lock = lock;
            this.fanOut = fanOut;
            this.writesLeft = writesLeft;
        }
    }

    private final BdevChannel channel;
    private final RangeLocks bdevLocks;
    /** Locks held or being acquired, anyone's: writes overlapping them wait. */
    private final List<RangeLock> recorded;
    /** Locks taken through this channel and not over yet. */
    private final List<RangeLock> own = new ArrayList<>();
    private final List<Acquisition> acquisitions = new ArrayList<>();
    private final WritesInFlight writes = new WritesInFlight();
    private final BdevIoQueue heldBack = new BdevIoQueue();
    private long heldBackTotal;

    ChannelRangeLocks(BdevChannel channel, RangeLocks bdevLocks) {
        this.channel = channel;
        this.bdevLocks = bdevLocks;
        this.recorded = new ArrayList<>(bdevLocks.join(channel)); // starts with the locks in place (rule R7)
    }

    // ---- the I/O path ----

    /** Whether {@code write} may start now; one a lock holds back waits here instead, until an unlock. */
    boolean admitWrite(BdevIo write) {
        if (!recorded.isEmpty() && isHeldBack(write)) {
            heldBack.add(write);
            heldBackTotal++;
            return false;
        }
        writes.add(write);
        return true;
    }

    private boolean isHeldBack(BdevIo write) {
        for (int i = 0; i < recorded.size(); i++) {
            RangeLock lock = recorded.get(i);
            if (lock.overlaps(write.offsetBlocks(), write.numBlocks()) && lock.holdsBack(write)) {
                return true;
            }
        }
        return false;
    }

    /** A write has completed (or, held back, was aborted without starting). */
    void writeEnded(BdevIo write) {
        if (!writes.remove(write) || acquisitions.isEmpty()) {
            return;
        }
        for (int i = acquisitions.size() - 1; i >= 0; i--) {
            Acquisition a = acquisitions.get(i);
            if (a.lock.overlaps(write.offsetBlocks(), write.numBlocks()) && --a.writesLeft == 0) {
                acquisitions.remove(i);
                a.fanOut.answer();
            }
        }
    }

    // ---- a lock's visits, from its holder ----

    /** Records {@code lock} here; answers once no write in flight overlaps it. */
    void record(RangeLock lock, ChannelFanOut fanOut) {
        if (!recorded.contains(lock)) { // a channel made after the lock entered the table starts with it
            recorded.add(lock);
        }
        int overlapping = writes.overlapping(lock);
        if (overlapping == 0) {
            fanOut.answer();
        } else {
            acquisitions.add(new Acquisition(lock, fanOut, overlapping));
        }
    }

    /** Takes {@code lock} off this channel; resubmits in order the writes held back (those still locked wait on). */
    void remove(RangeLock lock, ChannelFanOut fanOut) {
        recorded.remove(lock);
        for (BdevIo io = heldBack.takeAll(); io != null; ) {
            BdevIo write = io;
            io = BdevIoQueue.unlink(io);
            if (admitWrite(write)) {
                channel.start(write);
            }
        }
        fanOut.answer();
    }

    // ---- the locks taken through this channel ----

    /**
     * Asks for a lock on [offset, offset + blocks) for {@code desc} here; {@code done} hears how it ends. Returns 0,
     * or -EBUSY, {@code done} never called, when it overlaps a lock held or being acquired and {@code mayWait} is
     * false.
     */
    int lock(BdevDesc desc, long offset, long blocks, IntConsumer done, boolean mayWait) {
        RangeLock lock = new RangeLock(offset, blocks, channel, desc, done);
        own.add(lock);
        if (!bdevLocks.lock(lock, mayWait)) {
            own.remove(lock);
            return -Errno.EBUSY;
        }
        return 0;
    }

    /** Releases the lock {@code desc} holds here on exactly that range; -EINVAL if there is none. */
    int unlock(BdevDesc desc, long offset, long blocks, IntConsumer done) {
        for (RangeLock lock : own) {
            if (lock.desc == desc && lock.offset == offset && lock.numBlocks == blocks
                    && lock.state == RangeLock.State.HELD) {
                lock.callback = done;
                bdevLocks.release(lock);
                return 0;
            }
        }
        return -Errno.EINVAL;
    }

    /** One of this channel's locks is over. */
    void ended(RangeLock lock) {
        own.remove(lock);
        channel.rangeLockEnded();
    }

    /**
     * The channel is being released: the writes held back complete ABORTED (as the NOMEM queue's do), waiting locks
     * are cancelled, held ones released; one being acquired, or promoted just now, is released once that ends.
     */
    void channelReleasing() {
        for (BdevIo io = heldBack.takeAll(); io != null; ) {
            BdevIo write = io;
            io = BdevIoQueue.unlink(io);
            write.complete(BdevIoStatus.ABORTED);
        }
        for (RangeLock lock : List.copyOf(own)) {
            if (lock.state == RangeLock.State.WAITING && bdevLocks.cancelWaiting(lock)) {
                lock.answer(-Errno.ECANCELED);
                ended(lock);
            } else if (lock.state == RangeLock.State.HELD) {
                lock.callback = null; // its holder is gone: nobody to tell
                bdevLocks.release(lock);
            }
        }
    }

    /** Whether every lock taken through this channel is over (its release may then finish). */
    boolean settled() {
        return own.isEmpty();
    }

    /** Writes waiting for an unlock now. */
    int heldBack() {
        return heldBack.size();
    }

    long heldBackTotal() {
        return heldBackTotal;
    }
}
