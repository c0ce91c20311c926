package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Rule R3: a reactor iteration that runs past the watchdog's bound is reported, once, with the stack of the
 * reactor at that moment, which shows the code that blocked it. A sleeping interrupt-mode reactor is idle,
 * not stalled, and is never reported.
 */
class WatchdogTest {

    /** What a careless poller might do: hold the reactor for a quarter of a second. */
    private static void blockTheReactorFor(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aBlockingPollerIsReportedWithItsStack() {
        ReactorOptions options = ReactorOptions.defaults(CpuMask.of(0, 1), true).withWatchdogMillis(50);
        try (ReactorRuntime rt = ReactorRuntime.start(options)) {
            List<Watchdog.Stall> stalls = new CopyOnWriteArrayList<>();
            rt.onStall(stalls::add);
            KeelThread t = rt.createThread("blocker", CpuMask.of(1));

            OnThread.run(t, () -> {
                Poller[] self = new Poller[1];
                self[0] = t.registerPoller("blocks_once", () -> {
                    self[0].unregister();
                    blockTheReactorFor(250);
                    return PollerFn.BUSY;
                });
            });

            await().atMost(Duration.ofSeconds(5)).until(() -> !stalls.isEmpty());
            Watchdog.Stall stall = stalls.getFirst();
            assertThat(stall.core()).isEqualTo(1);
            assertThat(stall.threadName()).isEqualTo("blocker");
            assertThat(stall.millis()).isGreaterThanOrEqualTo(50);
            assertThat(Arrays.stream(stall.stack()).map(StackTraceElement::getMethodName))
                    .contains("blockTheReactorFor");
            assertThat(stall.describe()).contains("reactor_1 stalled", "in thread blocker", "blockTheReactorFor");

            // The stall ends and the reactors go back to sleep: no more reports, and certainly not for sleeping.
            await().pollDelay(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2))
                    .untilAsserted(() -> assertThat(stalls).as("one report per stalled iteration").hasSize(1));
        }
    }
}
