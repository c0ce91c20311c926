package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keel.core.thread.SimulationRuntime.SimulationFailure;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Messages keep their order per sender, not across senders. A "check then act" bug over three threads: the
 * controller asks the target to open a namespace and, without waiting, tells a worker the namespace is
 * ready; the worker sends I/O to the target, which may get the I/O before the open. The target checks its
 * own invariant and throws; the simulation turns that into a failure naming the seed, and that seed replays
 * to the same failure at the same step. Waiting for the target's acknowledgement fixes it for every seed.
 */
class SimulationFindsCausalOrderBugTest {
    private static final int SEED_BUDGET = 200;

    /** The target's state; touched only on the target thread. */
    private static final class Target {
        final Set<String> open = new HashSet<>();
        int ios;

        void open(String ns) {
            open.add(ns);
        }

        void io(String ns) {
            if (!open.contains(ns)) {
                throw new IllegalStateException("I/O to namespace " + ns + " before it was opened");
            }
            ios++;
        }
    }

    private static void scenario(long seed, boolean waitForAck) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1));
        KeelThread controller = sim.createThread("controller");
        KeelThread worker = sim.createThread("worker");
        KeelThread targetThread = sim.createThread("target");
        Target target = new Target();
        Runnable tellWorker = () -> worker.send(() -> {
            for (int i = 0; i < 4; i++) {
                targetThread.send(target::io, "nsid1");
            }
        });
        controller.send(() -> {
            if (waitForAck) {
                targetThread.send(() -> {
                    target.open("nsid1");
                    controller.send(tellWorker);
                });
            } else {
                targetThread.send(target::open, "nsid1");
                tellWorker.run(); // the bug: the open has been sent, not done
            }
        });
        sim.runUntilIdle(10_000);
        assertThat(target.ios).isEqualTo(4);
    }

    @Test
    void exploringSeedsFindsIoOvertakingTheOpenAndTheSeedReplaysIt() {
        assumeTrue(System.getProperty("keel.sim.seed") == null, "replaying one seed: nothing to explore");
        SimulationFailure failure = catchThrowableOfType(SimulationFailure.class,
                () -> SimulationSeeds.explore("I/O before open", SEED_BUDGET, seed -> scenario(seed, false)));

        assertThat(failure).as("the reordering is found within %d seeds", SEED_BUDGET).isNotNull();
        long seed = failure.seed();
        assertThat(failure.getMessage())
                .contains("simulation seed " + seed + " failed")
                .contains("on thread target")
                .contains("-Dkeel.sim.seed=" + seed);
        assertThat(failure.getCause()).hasMessageContaining("before it was opened");

        SimulationFailure replay = catchThrowableOfType(SimulationFailure.class, () -> scenario(seed, false));
        assertThat(replay).as("replaying seed %d", seed).isNotNull();
        assertThat(replay.getMessage()).isEqualTo(failure.getMessage()); // same seed, same step, same place
    }

    @Test
    void waitingForTheTargetsAcknowledgementIsCorrectForEverySeed() {
        SimulationSeeds.explore("open acknowledged before I/O", SEED_BUDGET, seed -> scenario(seed, true));
    }
}
