package io.keel.nvme.host.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.SimBdevLayer;
import io.keel.bdev.SimIoWorker;
import io.keel.core.rpc.RpcCall;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import io.keel.nvme.host.sim.SimController;
import io.keel.nvme.host.sim.SimHostTransport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Scenario S1 under the deterministic simulation: the nvme bdev module (its controllers, per-thread queues, bdevs,
 * retry queues and teardown, unchanged) over a simulated controller, with I/O from three threads while
 * {@code bdev_nvme_detach_controller} runs and, in an order and at times each seed picks, a controller reset, an AEN
 * (a namespace added or removed) and a killed-then-revived controller race it. Under every seed the detach answers
 * true within its bound, every I/O completes exactly once on its thread, the bdevs and the controller are gone, and
 * every bdev_io and data buffer is back ({@link SimBdevLayer#close}). {@code -Dkeel.sim.seed=N} replays one seed.
 */
class NvmeDetachSimulationTest {
    static final long DETACH_BOUND_NANOS = 20_000_000_000L;

    /** An RpcCall for calling the module's methods directly: the answer, or the error. */
    static final class Answer implements RpcCall {
        Object result;
        String error;

        boolean done() {
            return result != null || error != null;
        }

        @Override
        public void respond(Object r) {
            result = r;
        }

        @Override
        public void fail(int code, String message) {
            error = code + " " + message;
        }

        @Override
        public String method() {
            return "test";
        }
    }

    private final java.util.Set<Long> fingerprints = new java.util.HashSet<>();
    private long seeds;
    private long ioBeforeDetach;

    @Test
    void detachUnderIoWithAResetAnAenAndALossRacingItLeavesNothingBehindUnderEverySeed() {
        SimulationSeeds.explore("nvme detach races (S1)", 150, this::run);
        assertThat(fingerprints.size()).as("the seeds explore different interleavings").isGreaterThan((int) (seeds * 9 / 10));
        assertThat(ioBeforeDetach / seeds).as("I/O per seed before the races").isGreaterThan(20);
    }

    private void run(long seed) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2, 3));
        SimBdevLayer sb = SimBdevLayer.start(sim);
        SplittableRandom rnd = new SplittableRandom(seed);
        SimController ctrl = new SimController(sb.thread("sim_ctrl", 3), 256);
        NvmeBdevModule m = sb.call(sb.appThread, () -> {
            NvmeBdevModule mod = NvmeBdevModule.create(() -> sb.appThread, sb.layer);
            mod.addTransport(new SimHostTransport(ctrl));
            return mod;
        });
        Answer attached = new Answer();
        sb.run(sb.appThread, () -> m.attach(new AttachParams("Nvme0", "TCP", "127.0.0.1", "IPv4", "4420", null,
                SimController.NQN, null, null, null, null, null, null, null, null, null, null, 5, 1, null, null, null,
                null, null, null, null), attached));
        sb.runUntil(attached::done);
        assertThat(attached.result).as("attach: %s", attached.error).isEqualTo(List.of("Nvme0n1"));

        List<SimIoWorker> workers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SimIoWorker w = new SimIoWorker(sb.thread("io" + i, i), "Nvme0n1", 64L * i, 64, 4);
            workers.add(w);
            w.start(sb.layer);
        }
        sim.runFor(rnd.nextLong(200_000, 3_000_000));
        ioBeforeDetach += workers.stream().mapToLong(SimIoWorker::succeeded).sum();

        // the races, in an order and with gaps this seed picks; the detach is one of them
        Answer detached = new Answer();
        long[] detachStart = new long[1];
        List<Runnable> racers = new ArrayList<>();
        racers.add(ctrl::changeNamespaces);
        racers.add(() -> {
            detachStart[0] = sim.simulatedClock().nanoTime();
            sb.appThread.send(() -> m.detach(new DetachParams("Nvme0", null, null, null, null, null, null, null),
                    detached));
        });
        if (rnd.nextBoolean()) {
            racers.add(() -> sb.appThread.send(() -> m.reset(new NvmeBdevModule.ResetParams("Nvme0", null),
                    new Answer())));
        }
        boolean kill = rnd.nextInt(3) == 0;
        if (kill) {
            racers.add(ctrl::kill);
        }
        Collections.shuffle(racers, new Random(seed));
        for (Runnable r : racers) {
            r.run();
            sim.runFor(rnd.nextLong(0, 200_000));
        }
        if (kill) {
            sim.runFor(rnd.nextLong(0, 2_000_000_000L));
            ctrl.revive();
        }

        sb.runUntil(detached::done);
        assertThat(detached.result).as("detach (seed %d): %s", seed, detached.error).isEqualTo(true);
        long took = sim.simulatedClock().nanoTime() - detachStart[0];
        assertThat(took).as("simulated ns the detach took (seed %d)", seed).isLessThan(DETACH_BOUND_NANOS);
        sb.runUntil(() -> workers.stream().allMatch(SimIoWorker::closed));
        for (SimIoWorker w : workers) {
            assertThat(w.wrongCompletions()).as("%s (seed %d)", w, seed).isZero();
            assertThat(w.badData()).as("%s (seed %d)", w, seed).isZero();
            assertThat(w.inFlight()).isZero();
        }
        sim.runUntilIdle(SimBdevLayer.MAX_STEPS);
        assertThat(sb.layer.bdevs()).as("no bdev left (seed %d)", seed).isEmpty();
        assertThat(sb.call(sb.appThread, () -> m.getControllers(null).size())).isZero();
        sb.close();
        fingerprints.add(sim.fingerprint());
        seeds++;
    }
}
