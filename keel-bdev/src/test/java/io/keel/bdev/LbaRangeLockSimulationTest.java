package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * LBA range locks under the simulation (rule R9): writers on three threads run random writes, write zeroes, unmaps
 * and reads over a whole bdev whose I/O stays in flight a random while; two lockers (one on a thread of its own, one
 * sharing a writer's thread and so its channel) take and release random ranges, sometimes writing into what they
 * hold; one writer closes and reopens its channel now and then with I/O in flight, so channels come and go (and
 * drain) while locks are held. Whatever the interleaving: no write other than the holder's own reaches the device
 * while it overlaps a held range, none is in flight over a range when its lock is granted, every I/O completes once
 * and succeeds (but for writes held back on a channel being put: those are aborted), every lock is granted and
 * unlocked, and every pooled object comes back. The same seed replays the same run.
 */
class LbaRangeLockSimulationTest {
    private static final int SEEDS = 200;
    private static final long BLOCKS = 256;
    private static final int IOS_PER_WRITER = 80;
    private static final int QUEUE_DEPTH = 4;
    private static final int ROUNDS = 10;

    private record Outcome(long fingerprint, long heldBack, long grantsThatWaited, long queuedRequests) {
    }

    /** What the device sees, checked against the locks the test holds now. Single OS thread: plain fields. */
    private static final class Watch {
        final SlowBdev bdev;
        final List<Locker> holding = new ArrayList<>();
        final List<String> violations = new ArrayList<>();

        Watch(SlowBdev bdev) {
            this.bdev = bdev;
            bdev.onWrite = this::writeArrives;
        }

        private void writeArrives(BdevIo io) {
            for (Locker l : holding) {
                if (overlaps(l.offset, l.blocks, io) && (io.desc() != l.desc || io.channel() != l.channel())) {
                    violations.add(io.type() + " [" + io.offsetBlocks() + ", +" + io.numBlocks() + ") on "
                            + io.channel().thread().name() + " reached the device inside " + l);
                }
            }
        }

        void granted(Locker l) {
            for (BdevIo io : bdev.writing) {
                if (overlaps(l.offset, l.blocks, io)) {
                    violations.add(l + " granted while " + io.type() + " [" + io.offsetBlocks() + ", +"
                            + io.numBlocks() + ") was in flight");
                }
            }
            holding.add(l);
        }

        boolean anyWriteOver(long offset, long blocks) {
            return bdev.writing.stream().anyMatch(io -> overlaps(offset, blocks, io));
        }

        private static boolean overlaps(long offset, long blocks, BdevIo io) {
            return io.offsetBlocks() < offset + blocks && offset < io.offsetBlocks() + io.numBlocks();
        }
    }

    /** Random I/O on one thread, {@link #QUEUE_DEPTH} at a time; may reopen its channel every 20 I/Os. */
    private static final class Writer extends BdevIoWaiter {
        final SimBdevLayer s;
        final KeelThread thread;
        final SplittableRandom random;
        final boolean reopens;
        final MemorySegment buffer = MemorySegment.ofArray(new byte[32 * 512]);
        BdevDesc desc;
        IoChannel<BdevChannel> channel;
        int submitted;
        int completed;
        int failed;
        int aborted;
        int refused;
        int inFlight;
        int sinceOpen;
        long heldBack;
        boolean waiting;
        boolean reopening;

        Writer(SimBdevLayer s, KeelThread thread, SplittableRandom random, boolean reopens) {
            this.s = s;
            this.thread = thread;
            this.random = random;
            this.reopens = reopens;
        }

        void start() {
            thread.send(() -> {
                open();
                pump();
            });
        }

        private void open() {
            desc = s.layer.open("S0", true, (e, b) -> { });
            channel = desc.getIoChannel();
            sinceOpen = 0;
        }

        private void pump() {
            while (inFlight < QUEUE_DEPTH && submitted < IOS_PER_WRITER && !waiting && !reopening) {
                long offset = random.nextLong(BLOCKS);
                long blocks = Math.min(1 + random.nextLong(32), BLOCKS - offset);
                BdevChannel ch = channel.context();
                int rc = switch (random.nextInt(6)) {
                    case 0, 1 -> desc.write(ch, buffer.asSlice(0, blocks * 512), offset, blocks, this::done, null);
                    case 2 -> desc.writeZeroes(ch, offset, blocks, this::done, null);
                    case 3 -> desc.unmap(ch, offset, blocks, this::done, null);
                    default -> desc.read(ch, buffer.asSlice(0, blocks * 512), offset, blocks, this::done, null);
                };
                if (rc == -Errno.ENOMEM) {
                    waiting = true;
                    ch.queueIoWait(this);
                } else if (rc != 0) {
                    refused++;
                    return;
                } else {
                    submitted++;
                    inFlight++;
                    sinceOpen++;
                }
            }
        }

        @Override
        public void ioAvailable() {
            waiting = false;
            pump();
        }

        private void done(BdevIo io, boolean success, Object arg) {
            if (!success && io.status() == BdevIoStatus.ABORTED && reopens) {
                aborted++; // held back on a channel it put: aborted at the release
            } else if (!success) {
                failed++;
            }
            io.free();
            completed++;
            inFlight--;
            if (reopens && sinceOpen >= 20 && !waiting && !reopening) {
                reopen();
            } else {
                pump();
            }
        }

        /**
         * A new channel, made while locks are held; the old one is released one message after its last put, with
         * writes still in flight (a lock must wait for them there too) or held back (they are aborted).
         */
        private void reopen() {
            heldBack += channel.context().lockHeldBackTotal();
            reopening = true;
            channel.put();
            desc.close();
            thread.send(() -> {
                reopening = false;
                open();
                pump();
            });
        }

        boolean finished() {
            return submitted == IOS_PER_WRITER && inFlight == 0;
        }

        void close() {
            s.run(thread, () -> {
                heldBack += channel.context().lockHeldBackTotal();
                channel.put();
                desc.close();
            });
        }
    }

    /** Takes {@link #ROUNDS} random ranges one after the other, holding each a random while. */
    private static final class Locker {
        final SimBdevLayer s;
        final KeelThread thread;
        final SplittableRandom random;
        final Watch watch;
        final MemorySegment buffer = MemorySegment.ofArray(new byte[32 * 512]);
        BdevDesc desc;
        IoChannel<BdevChannel> channel;
        long offset;
        long blocks;
        int granted;
        int unlocked;
        int ownWrites;
        int ownWritesDone;
        int errors;
        long grantsThatWaited;
        long queued;

        Locker(SimBdevLayer s, KeelThread thread, SplittableRandom random, Watch watch) {
            this.s = s;
            this.thread = thread;
            this.random = random;
            this.watch = watch;
        }

        BdevChannel channel() {
            return channel.context();
        }

        void start() {
            thread.send(() -> {
                desc = s.layer.open("S0", true, (e, b) -> { });
                channel = desc.getIoChannel();
                next();
            });
        }

        private void next() {
            if (granted == ROUNDS) {
                return;
            }
            offset = random.nextLong(BLOCKS);
            blocks = Math.min(1 + random.nextLong(32), BLOCKS - offset);
            boolean writesInFlight = watch.anyWriteOver(offset, blocks);
            int rc = desc.lockLbaRange(channel(), offset, blocks, this::lockDone);
            errors += rc == 0 ? 0 : 1;
            grantsThatWaited += writesInFlight ? 1 : 0;
            queued += watch.bdev.rangeLocks().waiting() > 0 ? 1 : 0;
        }

        private void lockDone(int status) {
            errors += status == 0 ? 0 : 1;
            granted++;
            watch.granted(this);
            if (random.nextBoolean()) { // the holder's own write into what it holds goes through
                long at = offset + random.nextLong(blocks);
                ownWrites++;
                int rc = desc.write(channel(), buffer.asSlice(0, 512), at, 1, (io, ok, arg) -> {
                    io.free();
                    ownWritesDone += ok ? 1 : 0;
                }, null);
                errors += rc == 0 ? 0 : 1;
            }
            Poller[] hold = new Poller[1];
            hold[0] = thread.registerPoller("hold_range", () -> {
                hold[0].unregister();
                unlock();
                return PollerFn.BUSY;
            }, 1 + random.nextLong(50));
        }

        private void unlock() {
            errors += desc.unlockLbaRange(channel(), offset, blocks + 1, st -> { }) == -Errno.EINVAL ? 0 : 1;
            watch.holding.remove(this);
            int rc = desc.unlockLbaRange(channel(), offset, blocks, status -> {
                errors += status == 0 ? 0 : 1;
                unlocked++;
                next();
            });
            errors += rc == 0 ? 0 : 1;
        }

        boolean finished() {
            return unlocked == ROUNDS && ownWritesDone == ownWrites;
        }

        void close() {
            s.run(thread, () -> {
                channel.put();
                desc.close();
            });
        }

        @Override
        public String toString() {
            return "lock [" + offset + ", +" + blocks + ") of " + thread.name();
        }
    }

    @Test
    void writersOnThreeThreadsAndTwoLockersNeverOverlapAHeldRange() {
        Set<Long> fingerprints = new HashSet<>();
        long[] totals = new long[4]; // runs, runs with held-back writes, with a grant that waited, with a queued lock
        SimulationSeeds.explore("range locks under writers on three threads", SEEDS, seed -> {
            Outcome o = run(seed);
            fingerprints.add(o.fingerprint());
            totals[0]++;
            totals[1] += o.heldBack() > 0 ? 1 : 0;
            totals[2] += o.grantsThatWaited() > 0 ? 1 : 0;
            totals[3] += o.queuedRequests() > 0 ? 1 : 0;
        });
        assertThat(fingerprints.size()).isGreaterThanOrEqualTo((int) totals[0] * 9 / 10);
        assertThat(totals[1]).as("runs where writes were held back").isGreaterThanOrEqualTo(totals[0] * 9 / 10);
        assertThat(totals[2]).as("runs where a lock waited for writes in flight").isGreaterThanOrEqualTo(totals[0] / 2);
        assertThat(totals[3]).as("runs where a lock queued behind another").isGreaterThanOrEqualTo(totals[0] / 10);
    }

    @Test
    void theSameSeedReplaysTheSameRun() {
        Outcome first = run(7);
        assertThat(run(7)).isEqualTo(first);
        assertThat(run(8).fingerprint()).isNotEqualTo(first.fingerprint());
    }

    private static Outcome run(long seed) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2));
        SimBdevLayer s = SimBdevLayer.start(sim);
        SlowBdev bdev = new SlowBdev("S0", BLOCKS, sim.random());
        s.run(s.appThread, () -> s.layer.register(bdev));
        Watch watch = new Watch(bdev);
        List<Writer> writers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            writers.add(new Writer(s, s.thread("w" + i, i), sim.random(), i == 2));
        }
        List<Locker> lockers = List.of(new Locker(s, s.thread("rebuild", 0), sim.random(), watch),
                new Locker(s, writers.get(1).thread, sim.random(), watch)); // shares w1's channel
        writers.forEach(Writer::start);
        lockers.forEach(Locker::start);

        s.runUntil(() -> writers.stream().allMatch(Writer::finished) && lockers.stream().allMatch(Locker::finished));

        assertThat(watch.violations).isEmpty();
        for (Writer w : writers) {
            assertThat(w.completed).as(w.thread.name() + " completions").isEqualTo(w.submitted);
            assertThat(w.failed).as(w.thread.name() + " failures").isZero();
            assertThat(w.refused).as(w.thread.name() + " refusals").isZero();
        }
        long queued = 0;
        long waited = 0;
        for (Locker l : lockers) {
            assertThat(l.errors).as(l.thread.name() + " lock errors").isZero();
            assertThat(l.granted).isEqualTo(ROUNDS);
            queued += l.queued;
            waited += l.grantsThatWaited;
        }
        assertThat(bdev.rangeLocks().locked() + bdev.rangeLocks().waiting()).isZero();
        writers.forEach(Writer::close);
        lockers.forEach(Locker::close);
        long heldBack = writers.stream().mapToLong(w -> w.heldBack).sum();
        s.close();
        return new Outcome(sim.fingerprint(), heldBack, waited, queued);
    }
}
