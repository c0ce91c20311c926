package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * An interrupt-mode reactor whose threads have no pollers really sleeps (its iteration count stands still),
 * and a message sent from a plain OS thread wakes it at once: each of twenty round trips finishes quickly.
 * The bounds are generous for a noisy shared VM; a missed wake-up would hang for good.
 */
class InterruptModeWakeTest {

    @Test
    void aSleepingReactorWakesForAMessageFromAnotherOsThread() throws InterruptedException {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            KeelThread t = rt.createThread("sleeper", CpuMask.of(1));
            Reactor reactor = rt.reactorOf(t);
            OnThread.run(t, () -> { });

            long[] latencies = new long[20];
            for (int i = 0; i < latencies.length; i++) {
                Thread.sleep(10); // the iteration after the last message finds nothing and goes to sleep
                long before = reactor.iterations();
                Thread.sleep(20);
                assertThat(reactor.iterations()).as("asleep: no iteration while idle").isLessThanOrEqualTo(before + 1);

                CompletableFuture<Long> ran = new CompletableFuture<>();
                long sent = System.nanoTime();
                t.send(() -> ran.complete(System.nanoTime()));
                latencies[i] = OnThread.await(ran) - sent;
            }

            Arrays.sort(latencies);
            long medianMicros = latencies[latencies.length / 2] / 1_000;
            long maxMillis = latencies[latencies.length - 1] / 1_000_000;
            assertThat(medianMicros).as("median wake-up latency (us)").isLessThan(20_000);
            assertThat(maxMillis).as("worst wake-up latency (ms)").isLessThan(1_000);
        }
    }
}
