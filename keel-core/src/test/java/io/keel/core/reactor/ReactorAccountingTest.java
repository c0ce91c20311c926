package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.core.thread.PollerFn;
import org.junit.jupiter.api.Test;

/**
 * The reactor reads the clock once per iteration and once more after each poll that did work (the next iteration
 * starts from that read when no idle poll followed it); an iteration is accounted at the next one's start and the
 * time no busy poll took is shared by the idle polls. What must still
 * hold: a thread that works every poll is busy, a thread that never does is idle, and the threads' time adds up to
 * the reactor's.
 */
class ReactorAccountingTest {
    @Test
    void busyAndIdleThreadsAreTellApartAndTheirTimeAddsUpToTheReactors() throws Exception {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), false))) {
            KeelThread busy = rt.createThread("busy_thread");
            KeelThread idle = rt.createThread("idle_thread");
            OnThread.run(busy, () -> busy.registerPoller("spin", () -> {
                long until = System.nanoTime() + 20_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                return PollerFn.BUSY;
            }));
            OnThread.run(idle, () -> idle.registerPoller("nothing", () -> PollerFn.IDLE));
            Reactor r = rt.reactorOf(busy);
            Thread.sleep(50);
            long[] before = sample(r, busy, idle);
            Thread.sleep(300);
            long[] after = sample(r, busy, idle);
            long reactorTime = (after[0] - before[0]) + (after[1] - before[1]);
            long busyBusy = after[2] - before[2];
            long busyIdle = after[3] - before[3];
            long idleBusy = after[4] - before[4];
            long idleIdle = after[5] - before[5];

            assertThat(busyBusy).as("the spinning thread's busy time").isGreaterThan(reactorTime / 2);
            assertThat(busyIdle).as("the spinning thread's idle time").isLessThan(reactorTime / 10);
            assertThat(idleIdle).as("the idle thread's idle time").isPositive();
            assertThat(idleBusy).as("the idle thread's busy time").isLessThan(reactorTime / 20);
            // an iteration is accounted to the reactor at the next one's start, to a busy thread at once: the two
            // may differ by the iteration in progress, which the OS can stretch on a loaded machine (slack 30 ms)
            assertThat((double) (busyBusy + busyIdle + idleBusy + idleIdle)).as("threads' time vs the reactor's")
                    .isCloseTo(reactorTime, within(reactorTime * 0.1 + 30_000_000));
        }
    }

    /** Reactor busy, idle; busy thread busy, idle; idle thread busy, idle — read on the reactor between iterations. */
    private static long[] sample(Reactor r, KeelThread busy, KeelThread idle) throws Exception {
        return OnThread.call(idle, () -> new long[] {r.busyNanos(), r.idleNanos(), busy.busyNanos(), busy.idleNanos(),
                idle.busyNanos(), idle.idleNanos()});
    }
}
