package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Thread exit under the simulation: an exiting thread waits for its messages and io_channels; released, it
 * exits at once; never released, it is forced out when its exit bound passes in simulated time — the
 * simulation jumps the clock there and does not spin on a deadline it has already reached.
 */
class SimulationExitTest {

    @Test
    void aThreadWhoseChannelIsReleasedExitsOnceItIsDestroyed() {
        SimulationRuntime sim = SimulationRuntime.create(11, CpuMask.of(0));
        IoDevice<String> device = IoDevice.register("dev", KeelThread::name, ctx -> { });
        KeelThread t = sim.createThread("leaving");
        List<String> events = new ArrayList<>();
        t.send(() -> {
            IoChannel<String> ch = t.getIoChannel(device);
            t.exit(() -> events.add("exited"));
            t.send(() -> {
                events.add("released");
                ch.put();
            });
        });

        sim.runUntilIdle(1_000);

        assertThat(events).containsExactly("released", "exited");
        assertThat(t.state()).isEqualTo(KeelThread.State.EXITED);
        assertThat(sim.threads()).doesNotContain(t);
    }

    @Test
    void aThreadHoldingAChannelForeverIsForcedOutAtItsExitBound() {
        SimulationRuntime sim = SimulationRuntime.create(12, CpuMask.of(0));
        IoDevice<String> device = IoDevice.register("leaked", KeelThread::name, ctx -> { });
        KeelThread t = sim.createThread("leaky");
        long[] exitedAt = {-1};
        long start = sim.clock().nanoTime();
        t.send(() -> {
            t.getIoChannel(device); // never put
            t.exit(() -> exitedAt[0] = sim.clock().nanoTime());
        });

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> sim.runUntilIdle(1_000));

        assertThat(t.state()).isEqualTo(KeelThread.State.EXITED);
        assertThat(exitedAt[0] - start).isBetween(KeelThread.EXIT_TIMEOUT_NANOS, KeelThread.EXIT_TIMEOUT_NANOS + 10_000);
    }
}
