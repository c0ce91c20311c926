package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.testing.NativeMemory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Pollers and timers registered and unregistered in a loop on real reactors — some never run, some run and
 * unregister themselves, some are paused and resumed first — leave the threads' poller lists as they were and
 * the JVM's native memory within a small bound, without a GC.
 */
class PollerChurnTest {
    private static final int ROUNDS = 20_000;
    private static final long NATIVE_SLACK = 512 * 1024;

    @Test
    void pollersAndTimersComingAndGoingLeaveNothingBehind() {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            KeelThread a = rt.createThread("churn_a", CpuMask.of(0));
            KeelThread b = rt.createThread("churn_b", CpuMask.of(1));
            churn(a, b, 1000);
            long before = NativeMemory.otherCommitted();

            churn(a, b, ROUNDS);

            long after = NativeMemory.otherCommitted();
            System.out.printf("poller churn: %d rounds on 2 threads, NMT Other %d KiB before, %d KiB after%n", ROUNDS,
                    before / 1024, after / 1024);
            for (KeelThread t : new KeelThread[] {a, b}) {
                int[] sizes = OnThread.call(t, () -> new int[] {t.allPollers().size(), t.activePollerList().size(),
                        t.timedPollerList().size()});
                assertThat(sizes).as("pollers left on %s (all, active list, timed list)", t.name()).containsOnly(0);
            }
            if (before >= 0) {
                assertThat(after - before).isLessThan(NATIVE_SLACK);
            }
        }
    }

    private static void churn(KeelThread a, KeelThread b, int rounds) {
        CompletableFuture<?> doneA = runOn(a, rounds);
        CompletableFuture<?> doneB = runOn(b, rounds);
        OnThread.await(doneA);
        OnThread.await(doneB);
    }

    /** One round per message, so the reactor runs the pollers between rounds; completes when every timer fired. */
    private static CompletableFuture<Void> runOn(KeelThread t, int rounds) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger firedLeft = new AtomicInteger(rounds);
        t.send(() -> round(t, rounds, firedLeft, done));
        return done;
    }

    private static void round(KeelThread t, int left, AtomicInteger firedLeft, CompletableFuture<Void> done) {
        if (left == 0) {
            return;
        }
        t.registerPoller("never_runs", () -> PollerFn.IDLE).unregister();
        t.registerPoller("never_due", () -> PollerFn.IDLE, 1_000_000).unregister();
        Poller paused = t.registerPoller("paused", () -> PollerFn.IDLE, 100);
        paused.pause();
        paused.resume();
        paused.unregister();
        Poller[] once = new Poller[1];
        once[0] = t.registerPoller("once", () -> {
            once[0].unregister(); // a one-shot timer
            if (firedLeft.decrementAndGet() == 0) {
                done.complete(null);
            }
            return PollerFn.BUSY;
        }, 10);
        t.send(() -> round(t, left - 1, firedLeft, done));
    }
}
