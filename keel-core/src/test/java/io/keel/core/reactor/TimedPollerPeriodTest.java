package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A 10 ms timed poller on an interrupt-mode reactor, which sleeps between runs: over ~300 ms it runs about
 * 30 times, and the n-th run comes no earlier than n periods after registration. The bounds are wide because this VM is shared and preempted; what they rule out is
 * a poller run every iteration, one that never wakes, or one that fires early.
 */
class TimedPollerPeriodTest {
    private static final long PERIOD_MICROS = 10_000;
    private static final long PERIOD_NANOS = PERIOD_MICROS * 1_000;

    @Test
    void aTenMillisecondPollerRunsAboutThirtyTimesInThreeHundredMilliseconds() throws InterruptedException {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            KeelThread t = rt.createThread("timer_owner", CpuMask.of(1));
            List<Long> runs = new ArrayList<>(); // touched on t only, read after it stops
            long[] registered = new long[1];
            Poller p = OnThread.call(t, () -> {
                registered[0] = System.nanoTime();
                return t.registerPoller("every_10ms", () -> {
                    runs.add(System.nanoTime());
                    return PollerFn.BUSY;
                }, PERIOD_MICROS);
            });

            Thread.sleep(300);
            List<Long> seen = OnThread.call(t, () -> {
                p.unregister();
                return List.copyOf(runs);
            });
            long windowNanos = System.nanoTime() - registered[0];

            long ideal = windowNanos / PERIOD_NANOS;
            assertThat((long) seen.size()).as("runs in %d ms", windowNanos / 1_000_000).isBetween(ideal / 3, ideal + 1);
            for (int i = 0; i < seen.size(); i++) {
                // each run is due a period after the start of the iteration that ran the previous one: never early
                assertThat(seen.get(i) - registered[0]).as("run %d", i).isGreaterThanOrEqualTo((i + 1) * PERIOD_NANOS);
            }
        }
    }
}
