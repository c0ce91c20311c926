package io.keel.bdev;

import io.keel.core.rpc.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bdev's LBA range locks (SPDK's {@code bdev_lock_lba_range} and {@code bdev_unlock_lba_range}) and the channels
 * they are recorded on. The table of locks is one immutable snapshot swapped by compare-and-set, so any thread may
 * read or change it without a lock: {@code locked} holds the locks held or being acquired, {@code waiting} those
 * queued, in order, behind an overlapping one. Each lock's steps run on its holder's thread:
 *
 * <ol>
 * <li>lock: into {@code locked} if it overlaps nothing there, else into {@code waiting};
 * <li>acquire: recorded on every channel, each of which holds back overlapping writes from then on and answers once
 *     its overlapping writes in flight have completed; when all have answered, the lock is held;
 * <li>release (unlock): out of {@code locked} first (channels made from now on start without it), then off every
 *     channel, each resubmitting the writes it held back; then each waiting lock that overlapped it and overlaps
 *     nothing locked now moves to {@code locked}, in order, and is acquired on its own holder's thread.
 * </ol>
 *
 * <p>A new channel joins the channel list before it reads {@code locked}, and a lock enters {@code locked} before
 * its acquisition lists the channels: so a channel made meanwhile either starts with the lock or is visited (or
 * both: it is recorded once). Unlocking is the mirror image.
 */
final class RangeLocks {
    private static final Logger LOG = LoggerFactory.getLogger(RangeLocks.class);

    private record Table(List<RangeLock> locked, List<RangeLock> waiting) {
    }

    private final Bdev bdev;
    private final AtomicReference<Table> table = new AtomicReference<>(new Table(List.of(), List.of()));
    /** Every channel of the bdev from its creation until it has finished releasing, in creation order. */
    private final List<BdevChannel> channels = new CopyOnWriteArrayList<>();

    RangeLocks(Bdev bdev) {
        this.bdev = bdev;
    }

    // ---- channels ----

    /** A new channel joins; returns the locks it starts with. On the channel's thread, as it is made. */
    List<RangeLock> join(BdevChannel ch) {
        channels.add(ch);
        return table.get().locked();
    }

    /** A channel has released: nothing of it is in flight or held back any more. */
    void leave(BdevChannel ch) {
        channels.remove(ch);
    }

    // ---- the steps of a lock, on its holder's thread ----

    /**
     * Starts acquiring {@code lock} if nothing locked overlaps it; else queues it, or, unless {@code mayWait}, leaves
     * the table as it was and returns false.
     */
    boolean lock(RangeLock lock, boolean mayWait) {
        while (true) {
            Table t = table.get();
            boolean clash = overlapsAny(t.locked(), lock);
            if (clash && !mayWait) {
                return false;
            }
            Table next = clash ? new Table(t.locked(), with(t.waiting(), lock)) : new Table(with(t.locked(), lock),
                    t.waiting());
            if (table.compareAndSet(t, next)) {
                if (!clash) {
                    acquire(lock);
                }
                return true;
            }
        }
    }

    private void acquire(RangeLock lock) {
        lock.state = RangeLock.State.ACQUIRING;
        ChannelFanOut.visit(channels, (ch, f) -> ch.rangeLocks().record(lock, f), () -> acquired(lock));
    }

    private void acquired(RangeLock lock) {
        if (lock.holder.releasing()) { // the holder let go of its channel meanwhile: nobody holds this lock
            lock.outcome = -Errno.ECANCELED;
            release(lock);
            return;
        }
        lock.state = RangeLock.State.HELD;
        lock.answer(0);
    }

    /** Takes a held lock off every channel; its callback then hears {@link RangeLock#outcome}. */
    void release(RangeLock lock) {
        lock.state = RangeLock.State.RELEASING;
        table.updateAndGet(t -> new Table(without(t.locked(), lock), t.waiting()));
        ChannelFanOut.visit(channels, (ch, f) -> ch.rangeLocks().remove(lock, f), () -> released(lock));
    }

    private void released(RangeLock lock) {
        for (RangeLock next : promoteAfter(lock)) {
            if (!next.holder.thread().send(() -> promoted(next))) {
                LOG.error("bdev {}: range lock {} promoted for thread {}, which has exited", bdev.name(), next,
                        next.holder.thread().name());
            }
        }
        lock.state = RangeLock.State.DONE;
        lock.answer(lock.outcome);
        lock.holder.rangeLocks().ended(lock);
    }

    private void promoted(RangeLock lock) {
        if (lock.holder.releasing()) {
            lock.outcome = -Errno.ECANCELED;
            release(lock);
        } else {
            acquire(lock);
        }
    }

    /**
     * Drops a waiting lock whose holder lets go of its channel; false if it has just been promoted (then it is
     * cancelled when the promotion arrives).
     */
    boolean cancelWaiting(RangeLock lock) {
        while (true) {
            Table t = table.get();
            if (!t.waiting().contains(lock)) {
                return false;
            }
            if (table.compareAndSet(t, new Table(t.locked(), without(t.waiting(), lock)))) {
                lock.state = RangeLock.State.DONE;
                return true;
            }
        }
    }

    /**
     * Moves the waiting locks that overlapped {@code unlocked} and overlap nothing locked now into {@code locked},
     * in their order (so of two overlapping ones only the first moves); returns them.
     */
    private List<RangeLock> promoteAfter(RangeLock unlocked) {
        while (true) {
            Table t = table.get();
            List<RangeLock> locked = new ArrayList<>(t.locked());
            List<RangeLock> waiting = new ArrayList<>();
            List<RangeLock> promoted = new ArrayList<>();
            for (RangeLock w : t.waiting()) {
                if (w.overlaps(unlocked) && !overlapsAny(locked, w)) {
                    locked.add(w);
                    promoted.add(w);
                } else {
                    waiting.add(w);
                }
            }
            if (promoted.isEmpty() || table.compareAndSet(t, new Table(List.copyOf(locked), List.copyOf(waiting)))) {
                return promoted;
            }
        }
    }

    // ---- for tests and logs ----

    /** Locks held or being acquired now. */
    int locked() {
        return table.get().locked().size();
    }

    /** Locks queued behind an overlapping one now. */
    int waiting() {
        return table.get().waiting().size();
    }

    private static boolean overlapsAny(List<RangeLock> locks, RangeLock lock) {
        for (RangeLock l : locks) {
            if (l.overlaps(lock)) {
                return true;
            }
        }
        return false;
    }

    private static List<RangeLock> with(List<RangeLock> list, RangeLock lock) {
        List<RangeLock> out = new ArrayList<>(list.size() + 1);
        out.addAll(list);
        out.add(lock);
        return List.copyOf(out);
    }

    private static List<RangeLock> without(List<RangeLock> list, RangeLock lock) {
        List<RangeLock> out = new ArrayList<>(list);
        out.remove(lock);
        return List.copyOf(out);
    }
}
