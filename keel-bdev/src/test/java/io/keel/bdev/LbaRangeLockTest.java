package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.RangeLockClient.Outcome;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * LBA range locks (SPDK's {@code bdev_lock_lba_range}), scenario by scenario, on a malloc bdev under the simulation:
 * each runs under a few seeds, so the threads interleave differently each time while the outcome must not change.
 */
class LbaRangeLockTest {
    private static final int SEEDS = 20;
    /** Long enough for anything not held back to have completed many times over (malloc takes a few µs). */
    private static final long WHILE = 200_000;

    private static void scenario(String name, Consumer<SimBdevLayer> body) {
        SimulationSeeds.explore(name, SEEDS, seed -> {
            SimBdevLayer s = SimBdevLayer.start(SimulationRuntime.create(seed, CpuMask.of(0, 1, 2)));
            s.malloc("M0", 512, 1024);
            body.accept(s);
            s.close(); // every bdev_io and buffer came back, the bdev was removed
        });
    }

    private static void granted(SimBdevLayer s, Outcome lock) {
        assertThat(lock.accepted()).as("lock request").isTrue();
        s.runUntil(() -> lock.done);
        assertThat(lock.lockStatus).as("lock outcome").isZero();
    }

    private static void unlocked(SimBdevLayer s, Outcome unlock) {
        assertThat(unlock.accepted()).as("unlock request").isTrue();
        s.runUntil(() -> unlock.done);
        assertThat(unlock.lockStatus).as("unlock outcome").isZero();
    }

    private static void completes(SimBdevLayer s, Outcome io) {
        assertThat(io.accepted()).as("submission").isTrue();
        s.runUntil(() -> io.done);
        assertThat(io.status).isEqualTo(BdevIoStatus.SUCCESS);
    }

    @Test
    void aWriteToALockedRangeWaitsForTheUnlockWhileReadsAndOtherBlocksGoOn() {
        scenario("writes wait for the unlock", s -> {
            RangeLockClient locker = RangeLockClient.open(s, s.thread("locker", 0), "M0");
            RangeLockClient writer = RangeLockClient.open(s, s.thread("writer", 1), "M0");
            granted(s, locker.lock(100, 50));

            Outcome inside = writer.write(140, 20); // overlaps the end of the range
            Outcome zeroes = writer.io(IoType.WRITE_ZEROES, 99, 2);
            Outcome unmap = writer.io(IoType.UNMAP, 149, 1);
            Outcome read = writer.read(120, 4);
            Outcome before = writer.write(0, 100); // ends where the range begins
            Outcome after = writer.write(150, 8);
            completes(s, read);
            completes(s, before);
            completes(s, after);
            s.sim.runFor(WHILE);
            assertThat(inside.done || zeroes.done || unmap.done).as("a write into the range completed").isFalse();
            assertThat(writer.heldBack()).isEqualTo(3);

            Outcome unlock = locker.unlock(100, 50);
            assertThat(unlock.accepted()).isTrue();
            s.runUntil(() -> unlock.done && inside.done && zeroes.done && unmap.done);
            assertThat(inside.status).isEqualTo(BdevIoStatus.SUCCESS);
            assertThat(zeroes.status).isEqualTo(BdevIoStatus.SUCCESS);
            assertThat(unmap.status).isEqualTo(BdevIoStatus.SUCCESS);
            assertThat(inside.order).as("held-back writes resubmit in order").isLessThan(zeroes.order);
            assertThat(zeroes.order).isLessThan(unmap.order);
            assertThat(writer.heldBack()).isZero();
            assertThat(s.call(writer.thread, () -> writer.channel().lockHeldBackTotal())).isEqualTo(3);
            locker.close();
            writer.close();
        });
    }

    @Test
    void theHoldersOwnWritesGoThroughWhileAnotherDescriptorOnItsThreadWaits() {
        scenario("the holder writes through", s -> {
            var thread = s.thread("rebuild", 0);
            RangeLockClient holder = RangeLockClient.open(s, thread, "M0");
            RangeLockClient neighbour = RangeLockClient.open(s, thread, "M0"); // same thread: the same channel
            assertThat(neighbour.channel()).isSameAs(holder.channel());
            granted(s, holder.lock(0, 64));

            completes(s, holder.write(10, 10));
            Outcome other = neighbour.write(10, 10);
            s.sim.runFor(WHILE);
            assertThat(other.done).isFalse();

            unlocked(s, holder.unlock(0, 64));
            s.runUntil(() -> other.done);
            assertThat(other.status).isEqualTo(BdevIoStatus.SUCCESS);
            holder.close();
            neighbour.close();
        });
    }

    @Test
    void aChannelOpenedWhileALockIsHeldStartsWithIt() {
        scenario("a new channel starts with the lock", s -> {
            RangeLockClient locker = RangeLockClient.open(s, s.thread("locker", 0), "M0");
            granted(s, locker.lock(500, 10));
            RangeLockClient late = RangeLockClient.open(s, s.thread("host_connects", 1), "M0"); // scenario S4, rule R7
            Outcome w = late.write(505, 1);
            completes(s, late.write(510, 1));
            s.sim.runFor(WHILE);
            assertThat(w.done).isFalse();

            unlocked(s, locker.unlock(500, 10));
            s.runUntil(() -> w.done);
            assertThat(w.status).isEqualTo(BdevIoStatus.SUCCESS);
            RangeLockClient later = RangeLockClient.open(s, s.thread("after_unlock", 2), "M0");
            completes(s, later.write(505, 1)); // made after the unlock: starts without it
            locker.close();
            late.close();
            later.close();
        });
    }

    @Test
    void overlappingLocksAreGrantedOneAfterTheOtherAndDisjointOnesAtOnce() {
        scenario("overlapping locks queue", s -> {
            RangeLockClient a = RangeLockClient.open(s, s.thread("a", 0), "M0");
            RangeLockClient b = RangeLockClient.open(s, s.thread("b", 1), "M0");
            RangeLockClient c = RangeLockClient.open(s, s.thread("c", 2), "M0");
            granted(s, a.lock(0, 100));
            Outcome second = b.lock(50, 100);
            s.sim.runFor(WHILE); // queued behind the first before the third asks
            Outcome third = c.lock(90, 20);
            Outcome disjoint = c.lock(600, 10);
            granted(s, disjoint);
            s.sim.runFor(WHILE);
            assertThat(second.done || third.done).as("an overlapping lock granted while the first is held").isFalse();
            assertThat(s.layer.get("M0").rangeLocks().waiting()).isEqualTo(2);

            unlocked(s, a.unlock(0, 100));
            granted(s, second);
            s.sim.runFor(WHILE);
            assertThat(third.done).as("the third overlaps the second").isFalse();
            unlocked(s, b.unlock(50, 100));
            granted(s, third);
            assertThat(second.order).isLessThan(third.order);

            unlocked(s, c.unlock(90, 20));
            unlocked(s, c.unlock(600, 10));
            assertThat(s.layer.get("M0").rangeLocks().locked()).isZero();
            a.close();
            b.close();
            c.close();
        });
    }

    @Test
    void aTryLockIsRefusedRatherThanQueuedBehindAnOverlappingLock() {
        scenario("a try-lock does not queue", s -> {
            RangeLockClient a = RangeLockClient.open(s, s.thread("a", 0), "M0");
            RangeLockClient b = RangeLockClient.open(s, s.thread("b", 1), "M0");
            granted(s, a.lock(0, 100));
            Outcome refused = b.tryLock(99, 10);
            assertThat(refused.rc).isEqualTo(-Errno.EBUSY);
            assertThat(s.layer.get("M0").rangeLocks().waiting()).isZero();
            Outcome disjoint = b.tryLock(100, 10);
            granted(s, disjoint);
            Outcome writeInto = a.write(105, 1); // a try-lock, once held, holds writes back as any lock does
            s.sim.runFor(WHILE);
            assertThat(writeInto.done).isFalse();
            unlocked(s, b.unlock(100, 10));
            completes(s, writeInto);
            unlocked(s, a.unlock(0, 100));
            granted(s, b.tryLock(0, 10));
            unlocked(s, b.unlock(0, 10));
            s.sim.runFor(WHILE);
            assertThat(refused.done).as("a refused try-lock's callback never runs").isFalse();
            a.close();
            b.close();
        });
    }

    @Test
    void onlyTheHolderUnlocksAndOnlyTheRangeItLocked() {
        scenario("unlock checks", s -> {
            RangeLockClient holder = RangeLockClient.open(s, s.thread("holder", 0), "M0");
            RangeLockClient other = RangeLockClient.open(s, s.thread("other", 1), "M0");
            assertThat(holder.unlock(0, 10).rc).as("nothing locked").isEqualTo(-Errno.EINVAL);
            Outcome lock = new Outcome();
            int unlockBeforeGrant = s.call(holder.thread, () -> { // one message: the grant cannot come in between
                lock.rc = holder.desc.lockLbaRange(holder.channel(), 0, 10, st -> lock.complete());
                return holder.desc.unlockLbaRange(holder.channel(), 0, 10, st -> { });
            });
            assertThat(unlockBeforeGrant).as("not granted yet").isEqualTo(-Errno.EINVAL);
            granted(s, lock);
            assertThat(holder.unlock(0, 5).rc).as("part of the range").isEqualTo(-Errno.EINVAL);
            assertThat(other.unlock(0, 10).rc).as("another channel").isEqualTo(-Errno.EINVAL);
            assertThat(holder.lock(0, 0).rc).as("empty").isEqualTo(-Errno.EINVAL);
            assertThat(holder.lock(1020, 5).rc).as("beyond the end").isEqualTo(-Errno.EINVAL);
            assertThat(holder.lock(-1, 5).rc).as("negative").isEqualTo(-Errno.EINVAL);
            Outcome unlock = holder.unlock(0, 10);
            assertThat(unlock.rc).isZero();
            s.runUntil(() -> unlock.done);
            assertThat(unlock.lockStatus).isZero();
            assertThat(holder.unlock(0, 10).rc).as("already unlocked").isEqualTo(-Errno.EINVAL);
            holder.close();
            other.close();
        });
    }

    @Test
    void releasingTheHoldersChannelLetsItsLocksGoAndCancelsTheOnesNotGranted() {
        scenario("the holder's channel goes", s -> {
            RangeLockClient holder = RangeLockClient.open(s, s.thread("holder", 0), "M0");
            RangeLockClient writer = RangeLockClient.open(s, s.thread("writer", 1), "M0");
            RangeLockClient next = RangeLockClient.open(s, s.thread("next", 2), "M0");
            granted(s, holder.lock(0, 100));
            Outcome queued = holder.lock(50, 10); // behind its own first lock
            Outcome nextLock = next.lock(20, 10);
            Outcome w = writer.write(30, 1);
            s.sim.runFor(WHILE);
            assertThat(w.done || queued.done || nextLock.done).isFalse();

            holder.close();
            s.runUntil(() -> queued.done && w.done);
            assertThat(queued.lockStatus).isEqualTo(-Errno.ECANCELED);
            assertThat(w.status).isEqualTo(BdevIoStatus.SUCCESS);
            granted(s, nextLock);
            unlocked(s, next.unlock(20, 10));
            writer.close();
            next.close();
        });
    }

    @Test
    void releasingAChannelWithWritesHeldBackAbortsThem() {
        scenario("held-back writes abort at release", s -> {
            RangeLockClient holder = RangeLockClient.open(s, s.thread("holder", 0), "M0");
            RangeLockClient writer = RangeLockClient.open(s, s.thread("writer", 1), "M0");
            granted(s, holder.lock(0, 100));
            Outcome w1 = writer.write(10, 1);
            Outcome w2 = writer.write(20, 1);
            s.sim.runFor(WHILE);
            writer.close();
            s.runUntil(() -> w1.done && w2.done);
            assertThat(w1.status).isEqualTo(BdevIoStatus.ABORTED);
            assertThat(w2.status).isEqualTo(BdevIoStatus.ABORTED);
            unlocked(s, holder.unlock(0, 100));
            holder.close();
        });
    }

    @Test
    void removingTheBdevWithALockHeldAndWritesHeldBackEnds() {
        scenario("removal with a lock held", s -> {
            RangeLockClient holder = RangeLockClient.open(s, s.thread("holder", 0), "M0");
            RangeLockClient writer = RangeLockClient.open(s, s.thread("writer", 1), "M0");
            granted(s, holder.lock(0, 100));
            Outcome queued = writer.lock(0, 10);
            Outcome w = writer.write(10, 1);
            s.sim.runFor(WHILE);
            int[] rc = {1};
            s.run(s.appThread, () -> s.layer.unregister(s.layer.get("M0"), r -> rc[0] = r));
            s.runUntil(() -> rc[0] != 1);
            assertThat(rc[0]).isZero();
            assertThat(holder.closed && writer.closed).isTrue();
            assertThat(w.done).isTrue(); // resubmitted when the holder let go, or aborted when its own channel went
            assertThat(queued.done).isTrue();
            assertThat(queued.lockStatus).isIn(0, -Errno.ECANCELED);
        });
    }
}
