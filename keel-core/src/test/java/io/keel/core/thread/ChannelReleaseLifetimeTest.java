package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.rpc.Errno;
import io.keel.core.testing.LogCapture;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Channel lifetimes under the simulation (simulated time, so the 5 and 10 s bounds cost nothing): a context that
 * needs time to let go (I/O in flight) is released only when it says so, its poller keeps running through its
 * thread's exit, and every wait on a holder that never lets go — a device's unregister, a release, a thread's
 * exit — ends at its bound with an error that names the holder.
 */
class ChannelReleaseLifetimeTest {

    /** A context with "I/O in flight": a poller completes one unit per run; release waits for none left. */
    static final class Draining {
        final List<String> events;
        int inFlight;
        Runnable released;
        final Poller poller;

        Draining(KeelThread t, List<String> events) {
            this.events = events;
            this.poller = t.registerPoller("drain", this::poll);
        }

        int poll() {
            if (inFlight == 0) {
                return PollerFn.IDLE;
            }
            if (--inFlight == 0 && released != null) {
                poller.unregister();
                events.add("released");
                released.run();
            }
            return PollerFn.BUSY;
        }

        void release(Runnable done) {
            if (inFlight == 0) {
                poller.unregister();
                events.add("released");
                done.run();
            } else {
                released = done;
            }
        }

        @Override
        public String toString() {
            return inFlight + " in flight";
        }
    }

    @Test
    void aChannelPutWithWorkInFlightIsReleasedOnlyWhenItEndsEvenThroughItsThreadsExit() {
        SimulationRuntime sim = SimulationRuntime.create(21, CpuMask.of(0));
        List<String> events = new ArrayList<>();
        IoDevice<Draining> device = IoDevice.registerDraining("ring", t -> new Draining(t, events), Draining::release);
        KeelThread t = sim.createThread("io");
        KeelThread caller = sim.createThread("rpc");
        t.send(() -> {
            IoChannel<Draining> ch = t.getIoChannel(device);
            ch.context().inFlight = 50;
            ch.put();
            t.exit(() -> events.add("exited"));
        });
        sim.runUntilIdle(10_000);
        caller.send(() -> device.unregister(rc -> events.add("unregistered " + rc)));

        sim.runUntilIdle(10_000);

        assertThat(events).containsExactly("released", "exited", "unregistered 0");
        assertThat(device.channelCount()).isZero();
    }

    @Test
    void anUnregisterWaitingOnAHolderThatNeverLetsGoFailsAtItsBoundNamingTheHolder() {
        SimulationRuntime sim = SimulationRuntime.create(22, CpuMask.of(0));
        IoDevice<String> device = IoDevice.register("dev_held", KeelThread::name, ctx -> { });
        KeelThread holder = sim.createThread("holder");
        KeelThread caller = sim.createThread("rpc");
        long[] doneAt = {-1};
        int[] status = {1};
        holder.send(() -> holder.getIoChannel(device)); // never put
        sim.runUntilIdle(1_000);
        long start = sim.clock().nanoTime();
        try (LogCapture log = LogCapture.errorsOf(IoDevice.class)) {
            caller.send(() -> device.unregister(rc -> {
                status[0] = rc;
                doneAt[0] = sim.clock().nanoTime();
            }));
            sim.runUntil(() -> doneAt[0] >= 0, 100_000);

            assertThat(status[0]).isEqualTo(-Errno.ETIMEDOUT);
            assertThat(doneAt[0] - start).isBetween(IoDevice.UNREGISTER_TIMEOUT_NANOS,
                    IoDevice.UNREGISTER_TIMEOUT_NANOS + 1_000_000);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("dev_held").contains("thread holder"));
        }
    }

    @Test
    void aThreadForcedOutHoldingAChannelFailsTheUnregisterAtOnceInsteadOfHangingIt() {
        SimulationRuntime sim = SimulationRuntime.create(23, CpuMask.of(0));
        IoDevice<String> device = IoDevice.register("dev_leaked", KeelThread::name, ctx -> { });
        KeelThread leaky = sim.createThread("leaky");
        KeelThread caller = sim.createThread("rpc");
        List<String> events = new ArrayList<>();
        leaky.send(() -> {
            leaky.getIoChannel(device); // never put
            leaky.exit(() -> events.add("forced out at " + sim.clock().nanoTime()));
        });
        caller.send(() -> device.unregister(rc -> events.add("unregistered " + rc + " at " + sim.clock().nanoTime())));
        try (LogCapture log = LogCapture.errorsOf(IoDevice.class)) {
            sim.runUntil(() -> events.size() == 2, 100_000);

            assertThat(events.get(0)).startsWith("forced out at ");
            assertThat(events.get(1)).startsWith("unregistered " + -Errno.ETIMEDOUT);
            long forcedAt = Long.parseLong(events.get(0).substring("forced out at ".length()));
            long failedAt = Long.parseLong(events.get(1).substring(events.get(1).lastIndexOf(' ') + 1));
            assertThat(failedAt - forcedAt).as("fails once the only holder is gone for good, not at its own bound")
                    .isLessThan(1_000_000);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("dev_leaked").contains("leaky (exited)"));
        }
    }

    @Test
    void aReleaseThatNeverEndsIsReportedOnceWithWhatTheContextStillHolds() {
        SimulationRuntime sim = SimulationRuntime.create(24, CpuMask.of(0));
        IoDevice<String> device = IoDevice.registerDraining("stuck_ring", t -> "3 in flight",
                (ctx, done) -> { }); // the "kernel" never completes
        KeelThread t = sim.createThread("io");
        try (LogCapture log = LogCapture.errorsOf(KeelThread.class)) {
            t.send(() -> t.getIoChannel(device).put());
            sim.runUntil(() -> !log.lines().isEmpty(), 1_000_000);

            assertThat(sim.clock().nanoTime()).isGreaterThanOrEqualTo(KeelThread.RELEASE_REPORT_NANOS);
            assertThat(log.lines()).singleElement().asString().contains("stuck_ring").contains("thread io")
                    .contains("in flight");
            assertThat(device.channelCount()).as("still a holder: never freed under its I/O").isEqualTo(1);
        }
    }
}
