package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Timed pollers run on simulated time: with nothing else to do the clock jumps straight to the next timer, so
 * a 10 ms poller runs exactly every 10 ms and a second of simulated time takes a few hundred steps, not a
 * second. With other work around, a poller is never early and, the way the simulation schedules it, late by
 * no more than the few microseconds other actions cost.
 */
class SimulationTimedPollerTest {
    private static final long MS = 1_000_000;

    @Test
    void aLoneTimedPollerFiresExactlyAtItsPeriod() {
        SimulationRuntime sim = SimulationRuntime.create(1, CpuMask.of(0));
        long start = sim.clock().nanoTime();
        List<Long> firedAt = new ArrayList<>();
        KeelThread t = sim.createThread("ticker");
        t.send(() -> KeelThread.current().registerPoller("every_10ms", () -> {
            firedAt.add(sim.clock().nanoTime());
            return PollerFn.BUSY;
        }, 10_000));
        sim.step(); // delivers the registration message at the start time; the period counts from there

        sim.runFor(start + 1_000 * MS + 1 - sim.clock().nanoTime());

        assertThat(firedAt).hasSize(100);
        for (int i = 0; i < firedAt.size(); i++) {
            assertThat(firedAt.get(i) - start).as("run %d", i).isEqualTo((i + 1) * 10 * MS);
        }
        assertThat(sim.steps()).as("time jumps instead of stepping through idle time").isLessThan(1_000);
    }

    @Test
    void runForStopsAtTheRequestedTimeEvenWhenTheNextTimerIsLater() {
        SimulationRuntime sim = SimulationRuntime.create(3, CpuMask.of(0));
        long start = sim.clock().nanoTime();
        List<Long> firedAt = new ArrayList<>();
        KeelThread t = sim.createThread("ticker");
        t.send(() -> KeelThread.current().registerPoller("every_10ms", () -> {
            firedAt.add(sim.clock().nanoTime() - start);
            return PollerFn.BUSY;
        }, 10_000));
        sim.step();

        sim.runFor(4 * MS - (sim.clock().nanoTime() - start)); // a scenario injects a fault "at 4 ms"
        long faultAt = sim.clock().nanoTime() - start;
        sim.runFor(21 * MS - faultAt);

        assertThat(faultAt).isEqualTo(4 * MS);
        assertThat(firedAt).containsExactly(10 * MS, 20 * MS);
    }

    @Test
    void timedPollersOfDifferentPeriodsKeepTheirRatesAmidOtherWork() {
        SimulationRuntime sim = SimulationRuntime.create(99, CpuMask.of(0, 1));
        long start = sim.clock().nanoTime();
        List<Long> fast = new ArrayList<>();
        List<Long> slow = new ArrayList<>();
        int[] busyRuns = new int[1];
        KeelThread a = sim.createThread("a");
        KeelThread b = sim.createThread("b");
        a.send(() -> KeelThread.current().registerPoller("fast_200us", () -> {
            fast.add(sim.clock().nanoTime());
            return PollerFn.BUSY;
        }, 200));
        b.send(() -> {
            KeelThread.current().registerPoller("slow_1300us", () -> {
                slow.add(sim.clock().nanoTime());
                return PollerFn.BUSY;
            }, 1_300);
            KeelThread.current().registerPoller("always_busy", () -> {
                busyRuns[0]++;
                return PollerFn.BUSY;
            });
        });

        sim.runFor(20 * MS);

        assertThat(busyRuns[0]).as("the busy poller kept the simulation stepping").isGreaterThan(1_000);
        assertThat(sim.clock().nanoTime() - start).isBetween(20 * MS, 20 * MS + 2_000);
        assertThat(fast).hasSizeBetween(97, 100);
        assertThat(slow).hasSizeBetween(14, 15);
        assertGaps(fast, 200_000);
        assertGaps(slow, 1_300_000);
    }

    /** Every gap is at least the period (never early) and only slightly more (late by a few steps at most). */
    private static void assertGaps(List<Long> times, long period) {
        for (int i = 1; i < times.size(); i++) {
            assertThat(times.get(i) - times.get(i - 1)).as("gap %d", i).isBetween(period, period + 50_000);
        }
    }
}
