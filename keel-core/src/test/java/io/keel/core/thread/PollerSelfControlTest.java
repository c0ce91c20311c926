package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A poller may pause, resume or unregister itself from inside its own callback (the common "done, stop
 * polling" and "wait for a resource" patterns); the change takes effect when the callback returns.
 */
class PollerSelfControlTest {
    private static final Duration SETTLE = Duration.ofMillis(100);

    private ReactorRuntime rt;
    private KeelThread t;

    @BeforeEach
    void start() {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        t = rt.createThread("poller_owner");
    }

    @AfterEach
    void stop() {
        rt.close();
    }

    /** Waits a little and checks the count did not move: the poller is really not being called. */
    private static void assertStaysAt(AtomicInteger runs, int expected) {
        await().pollDelay(SETTLE).atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(runs.get()).isEqualTo(expected));
    }

    @Test
    void aPollerThatUnregistersItselfIsNeverCalledAgain() {
        AtomicInteger runs = new AtomicInteger();
        Poller[] self = new Poller[1];

        OnThread.run(t, () -> self[0] = t.registerPoller("three_times", () -> {
            if (runs.incrementAndGet() == 3) {
                self[0].unregister();
                self[0].unregister(); // idempotent
            }
            return PollerFn.BUSY;
        }));

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 3);
        assertStaysAt(runs, 3);
        assertThat(self[0].state()).isEqualTo(Poller.State.UNREGISTERED);
        assertThat(OnThread.call(t, t::allPollers)).isEmpty();
    }

    @Test
    void aPollerThatPausesItselfWaitsUntilResumed() {
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Poller.State> stateRightAfterPause = new AtomicReference<>();
        Poller[] self = new Poller[1];
        OnThread.run(t, () -> self[0] = t.registerPoller("pause_on_second", () -> {
            if (runs.incrementAndGet() == 2) {
                self[0].pause();
                stateRightAfterPause.set(self[0].state());
            }
            return PollerFn.BUSY;
        }));

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 2);
        assertStaysAt(runs, 2);
        assertThat(stateRightAfterPause.get()).as("still running until the callback returns").isEqualTo(Poller.State.RUNNING);
        assertThat(OnThread.call(t, () -> self[0].state())).isEqualTo(Poller.State.PAUSED);
        assertThat(OnThread.call(t, t::allPollers)).containsExactly(self[0]);

        OnThread.run(t, () -> self[0].resume());

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() > 2);
    }

    @Test
    void pausingThenResumingInTheSameCallbackKeepsThePollerRunning() {
        AtomicInteger runs = new AtomicInteger();
        Poller[] self = new Poller[1];

        OnThread.run(t, () -> self[0] = t.registerPoller("changes_its_mind", () -> {
            runs.incrementAndGet();
            self[0].pause();
            self[0].resume();
            return PollerFn.BUSY;
        }));

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 100);
        OnThread.run(t, () -> self[0].unregister());
    }

    @Test
    void aTimedPollerPausesAndUnregistersItselfToo() {
        AtomicInteger runs = new AtomicInteger();
        Poller[] self = new Poller[1];
        OnThread.run(t, () -> self[0] = t.registerPoller("timed_pause", () -> {
            int n = runs.incrementAndGet();
            if (n == 1) {
                self[0].pause();
            } else if (n == 2) {
                self[0].unregister();
            }
            return PollerFn.BUSY;
        }, 2_000));

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 1);
        assertStaysAt(runs, 1);

        OnThread.run(t, () -> self[0].resume());

        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 2);
        assertStaysAt(runs, 2);
        assertThat(OnThread.call(t, t::allPollers)).isEmpty();
    }

    @Test
    void anotherThreadMayNotTouchAPoller() {
        Poller p = OnThread.call(t, () -> t.registerPoller("owned", () -> PollerFn.IDLE));

        assertThatIllegalStateException().isThrownBy(p::pause)
                .withMessageContaining("only thread poller_owner may");
    }
}
