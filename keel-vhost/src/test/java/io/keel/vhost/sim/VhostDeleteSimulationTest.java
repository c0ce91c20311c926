package io.keel.vhost.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.Bdev;
import io.keel.bdev.SimBdevLayer;
import io.keel.bdev.delay.DelayModule;
import io.keel.core.sys.Libc;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import io.keel.vhost.blk.BlkController;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S2 under the deterministic simulation (rule R9): controllers vhost.A and vhost.B on one simulated core, a simulated
 * front end each ({@link SimBlkFrontEnd}, real sockets, eventfds and guest memory, all written inside the simulation).
 * A runs I/O throughout; B has reads waiting at its delay bdev when, at a moment the seed picks, its VM keeps running,
 * powers off (stops its queues, then hangs up), is killed (hangs up mid-I/O), or stops its queues and stays; and
 * vhost_delete_controller for B is called at another such moment — before, during or after B's teardown, sometimes
 * twice. For every seed: each delete answers, refused (-EBUSY, at once) only while B's queues ran, else true within
 * its bound; B's session is never ended under a running VM; A's I/O never fails and never waits for B's drain or the
 * hang-up bound; no request completes twice; then B's guest memory is unmapped, its socket file gone and its bdev
 * deletable.
 */
class VhostDeleteSimulationTest {
    private static final int SEEDS = 200;
    private static final long MS = 1_000_000;
    /** B's bdev holds every I/O this long: the drain a delete may wait for. */
    private static final long DELAY_US = 50_000;
    private static final long DELAY = DELAY_US * 1000;
    /** The front ends top their queues up every millisecond: A's completions come that often unless it is stalled. */
    private static final long TICK_US = 1_000;
    private static final long A_GAP_BOUND = 5 * MS;
    private static final int B_DEPTH = 3;
    private int runs;

    @TempDir
    Path dir;

    /** What B's VM does at its moment. */
    enum BGoes { KEEPS_RUNNING, SHUTS_DOWN, HANGS_UP, STOPS_AND_STAYS }

    /** One delete of B: when it was called, and what it answered when. */
    private static final class Delete {
        long calledAt = -1;
        /** B's VM as the delete was called, for the coverage count. */
        SimBlkFrontEnd.State bWhenCalled;
        long answeredAt = -1;
        int rc = 1;
        int answers;
        boolean bHadLeftWhenRefused;
    }

    /** How often each kind of moment came up over the seeds explored: proof that they reach before, during, after. */
    private final Map<String, Integer> coverage = new TreeMap<>();

    @Test
    void deletingBWhateverItsVmDoesNeverStallsA() {
        SimulationSeeds.explore("vhost delete of B while its VM goes away", SEEDS, this::run);

        System.out.println("VhostDeleteSimulationTest coverage: " + coverage);
        if (System.getProperty("keel.sim.seed") == null) {
            assertThat(coverage).as("deletes refused under a running VM, accepted as it stops, after it hung up, "
                    + "waiting out the hang-up bound, and called twice").containsKeys("refused", "accepted: B STOPPING",
                    "accepted: B HUNG_UP", "accepted: B STOPPED and stays", "two deletes accepted");
        }
    }

    @Test
    void aSeedReplaysTheSameRun() {
        assertThat(run(7)).isEqualTo(run(7));
    }

    private long run(long seed) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        BGoes how = bGoes(random);
        long bActsAfter = random.nextLong(2 * DELAY);
        long firstDeleteAfter = random.nextLong(3 * DELAY);
        long secondDeleteAfter = random.nextInt(3) == 0 ? firstDeleteAfter + random.nextLong(DELAY) : -1;
        Path folder = folder();

        TwoVms v = TwoVms.start(seed, folder);
        SimulationRuntime sim = v.sim;
        SimBdevLayer s = v.layer;
        SimBlkFrontEnd guestA = v.guestA;
        SimBlkFrontEnd guestB = v.guestB;
        BlkController b = v.b;
        long start = sim.clock().nanoTime();

        // the seed's moments, in time order
        List<Delete> deletes = new ArrayList<>();
        List<long[]> moments = new ArrayList<>(); // {after, kind}: 0 = B acts, 1 = a delete
        moments.add(new long[] {bActsAfter, 0});
        moments.add(new long[] {firstDeleteAfter, 1});
        if (secondDeleteAfter >= 0) {
            moments.add(new long[] {secondDeleteAfter, 1});
        }
        moments.sort((x, y) -> Long.compare(x[0], y[0]));
        for (long[] m : moments) {
            sim.runFor(start + m[0] - sim.clock().nanoTime());
            if (m[1] == 0) {
                v.bThread.send(() -> bActs(guestB, how));
            } else {
                deletes.add(delete(v, b, guestB));
            }
        }
        s.runUntil(() -> deletes.stream().allMatch(d -> d.answers > 0));
        if (deletes.stream().noneMatch(d -> d.rc == 0)) { // every delete came while B's VM ran: it goes, then a retry
            if (how == BGoes.KEEPS_RUNNING) {
                s.run(v.bThread, guestB::hangUp);
            }
            s.runUntil(() -> guestB.leftRunningAt() >= 0);
            Delete retry = delete(v, b, guestB);
            deletes.add(retry);
            s.runUntil(() -> retry.answers > 0);
            assertThat(retry.rc).as("a delete after B's VM went away").isZero();
        }
        long to = sim.clock().nanoTime();
        sim.runFor(10 * MS);

        for (Delete d : deletes) {
            assertThat(d.answers).as("answered once").isEqualTo(1);
            assertThat(d.rc).isIn(0, -Libc.EBUSY);
            if (d.rc == -Libc.EBUSY) {
                assertThat(d.bHadLeftWhenRefused).as("refused only while B's VM ran its queues").isFalse();
                assertThat(d.answeredAt - d.calledAt).as("refused at once").isLessThan(MS);
            } else {
                long bound = 3 * DELAY + (how == BGoes.STOPS_AND_STAYS ? BlkController.HANG_UP_BOUND_NANOS : 0);
                long since = Math.max(d.calledAt, guestB.leftRunningAt());
                assertThat(d.answeredAt - since).as("deleted within its bound").isLessThanOrEqualTo(bound);
            }
        }
        assertThat(guestB.endedWhileRunning()).as("B's session ended under its running VM").isFalse();
        if (how == BGoes.STOPS_AND_STAYS) {
            assertThat(guestB.state()).as("the delete ended B's session at the bound")
                    .isEqualTo(SimBlkFrontEnd.State.ENDED_BY_BACK_END);
        }
        assertThat(b.state()).isEqualTo(BlkController.State.DELETED);
        assertThat(guestA.failed()).as("A's failed I/Os").isZero();
        assertThat(guestA.secondCompletions() + guestB.secondCompletions()).as("requests completed twice").isZero();
        assertThat(guestB.failed()).as("B's failed I/Os").isZero();
        long gap = guestA.maxGap(start, to);
        assertThat(gap).as("A's longest completion gap while B went and was deleted").isLessThan(A_GAP_BOUND);
        assertThat(gap * 10).as("far below B's drain").isLessThan(DELAY);
        assertThat(guestA.maxGap(to, sim.clock().nanoTime())).as("A goes on after").isLessThan(A_GAP_BOUND);
        assertThat(Files.exists(b.socketPath())).as("B's socket file").isFalse();
        assertThat(mappingsOf(guestB.ramFd())).as("B's guest memory is mapped by its front end only").isEqualTo(1);
        Bdev delayB = s.layer.bdevs().stream().filter(x -> x.name().equals("DelayB")).findFirst().orElseThrow();
        int[] removed = {1};
        s.run(s.appThread, () -> s.layer.unregister(delayB, rc -> removed[0] = rc));
        s.runUntil(() -> removed[0] != 1);
        assertThat(removed[0]).as("B's bdev deleted").isZero();

        v.close();
        count(deletes, how);
        return sim.fingerprint();
    }

    private void count(List<Delete> deletes, BGoes how) {
        for (Delete d : deletes) {
            String kind = d.rc != 0 ? "refused" : "accepted: B " + d.bWhenCalled
                    + (how == BGoes.STOPS_AND_STAYS && d.bWhenCalled == SimBlkFrontEnd.State.STOPPED ? " and stays" : "");
            coverage.merge(kind, 1, Integer::sum);
        }
        if (deletes.stream().filter(d -> d.rc == 0).count() > 1) {
            coverage.merge("two deletes accepted", 1, Integer::sum);
        }
    }

    /**
     * Staying connected after stopping makes the delete wait out the whole hang-up bound (5 s of simulated time, about
     * twenty times the steps of the others): one seed in eight, the rest evenly.
     */
    private static BGoes bGoes(SplittableRandom random) {
        return random.nextInt(8) == 0 ? BGoes.STOPS_AND_STAYS
                : new BGoes[] {BGoes.KEEPS_RUNNING, BGoes.SHUTS_DOWN, BGoes.HANGS_UP}[random.nextInt(3)];
    }

    private Path folder() {
        try {
            return Files.createDirectory(dir.resolve("run" + ++runs));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void bActs(SimBlkFrontEnd guestB, BGoes how) {
        switch (how) {
            case KEEPS_RUNNING -> {
            }
            case SHUTS_DOWN -> guestB.stopQueues(true);
            case HANGS_UP -> guestB.hangUp();
            case STOPS_AND_STAYS -> guestB.stopQueues(false);
        }
    }

    /** Calls vhost_delete_controller from the RPC thread: the controller's own delete, as VhostTarget calls it. */
    private static Delete delete(TwoVms v, BlkController c, SimBlkFrontEnd guest) {
        SimulationRuntime sim = v.sim;
        Delete d = new Delete();
        v.rpc.send(() -> {
            d.calledAt = sim.clock().nanoTime();
            d.bWhenCalled = guest.state();
            c.delete(false, rc -> {
                d.answers++;
                d.rc = rc;
                d.answeredAt = sim.clock().nanoTime();
                d.bHadLeftWhenRefused = guest.leftRunningAt() >= 0; // read as the controller decided: the same step
            });
        });
        return d;
    }

    /**
     * The two controllers on simulated core 1, their VMs' front ends on core 2 (A one request per queue at a time, B
     * {@link #B_DEPTH} reads per queue at its delay bdev), and the RPC thread on core 0.
     */
    private static final class TwoVms {
        final SimulationRuntime sim;
        final SimBdevLayer layer;
        final KeelThread rpc;
        final BlkController a;
        final BlkController b;
        final KeelThread aThread;
        final KeelThread bThread;
        final SimBlkFrontEnd guestA;
        final SimBlkFrontEnd guestB;

        private TwoVms(long seed, Path folder) {
            sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2));
            layer = SimBdevLayer.start(sim);
            DelayModule delay = layer.call(layer.appThread, () -> DelayModule.addTo(layer.layer));
            layer.malloc("MallocA", 512, 2048);
            layer.malloc("MallocB", 512, 2048);
            layer.run(layer.appThread, () -> delay.create("DelayB", "MallocB", DELAY_US, DELAY_US, DELAY_US, DELAY_US));
            rpc = sim.createThread("rpc", CpuMask.of(0));
            a = controller("vhost.A", "MallocA", folder);
            b = controller("vhost.B", "DelayB", folder);
            aThread = sim.createThread("guest_A", CpuMask.of(2));
            bThread = sim.createThread("guest_B", CpuMask.of(2));
            guestA = new SimBlkFrontEnd("guest_A", aThread, a.socketPath(), 1, false, TICK_US);
            guestB = new SimBlkFrontEnd("guest_B", bThread, b.socketPath(), B_DEPTH, true, TICK_US);
        }

        /** Both VMs connected and running; A has completed a few requests, B's reads wait at its bdev. */
        static TwoVms start(long seed, Path folder) {
            TwoVms v = new TwoVms(seed, folder);
            v.layer.run(v.aThread, v.guestA::connect);
            v.layer.run(v.bThread, v.guestB::connect);
            v.layer.runUntil(() -> v.guestA.state() == SimBlkFrontEnd.State.RUNNING && v.guestA.completed() > 3
                    && v.guestB.inFlight() == 2 * B_DEPTH);
            return v;
        }

        private BlkController controller(String name, String bdev, Path folder) {
            BlkController c = new BlkController(name, bdev, false, CpuMask.of(1), folder.resolve(name),
                    sim.createThread("vhost_" + name, CpuMask.of(1)), layer.layer);
            int[] started = {1};
            c.start(rc -> started[0] = rc);
            layer.runUntil(() -> started[0] != 1);
            assertThat(started[0]).as("controller %s started", name).isZero();
            return c;
        }

        /** A's VM goes and A is deleted; both front ends let go of their guests; the layer ends, its pools whole. */
        void close() {
            layer.run(aThread, guestA::hangUp);
            Delete deleteA = delete(this, a, guestA);
            layer.runUntil(() -> deleteA.answers > 0);
            assertThat(deleteA.rc).isZero();
            layer.run(aThread, guestA::close);
            layer.run(bThread, guestB::close);
            layer.close();
        }
    }

    /** How many mappings of the file behind {@code fd} this process has (from /proc/self/maps). */
    private static long mappingsOf(int fd) {
        try {
            String inode = String.valueOf(Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:ino"));
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(line -> line.split("\\s+"))
                    .filter(f -> f.length > 4 && f[4].equals(inode))
                    .count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
