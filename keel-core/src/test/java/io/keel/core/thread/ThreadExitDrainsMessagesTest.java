package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A lightweight thread exits only after it has drained: every message queued before the exit request — more
 * than its ring holds — and every message those send it meanwhile run before its exit callback, which runs on
 * the thread itself as its last act. Its pollers stop at once, the runtime forgets it, and later messages
 * are refused.
 */
class ThreadExitDrainsMessagesTest {
    private static final int QUEUED = 5_000; // more than the default ring of 4096: some take the overflow

    private ReactorRuntime rt;

    @BeforeEach
    void start() {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
    }

    @AfterEach
    void stop() {
        rt.close();
    }

    private record AtExit(long messagesRun, long followUpsRun, String ranOn, List<Poller> pollers, KeelThread.State state) {
    }

    @Test
    void everyQueuedMessageRunsBeforeTheExitCallback() {
        KeelThread t = rt.createThread("doomed", CpuMask.of(1));
        AtomicLong pollerRuns = new AtomicLong();
        long[] ran = new long[2]; // [messages, follow-ups], touched only on t
        OnThread.run(t, () -> t.registerPoller("counting", () -> {
            pollerRuns.incrementAndGet();
            return PollerFn.IDLE;
        }));
        CompletableFuture<AtExit> exited = new CompletableFuture<>();

        // Hold the thread in one message (a test-only block) while this OS thread queues a burst bigger than
        // the ring, and the exit request behind it.
        CountDownLatch queued = new CountDownLatch(1);
        t.send(() -> {
            try {
                queued.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < QUEUED; i++) {
            int n = i;
            t.send(() -> {
                ran[0]++;
                if (n < 10) {
                    t.send(() -> ran[1]++); // arrives while the thread is already exiting
                }
            });
        }
        t.exit(() -> exited.complete(new AtExit(ran[0], ran[1], KeelThread.current().name(), t.allPollers(), t.state())));
        queued.countDown();

        AtExit atExit = OnThread.await(exited);
        assertThat(atExit.messagesRun()).isEqualTo(QUEUED);
        assertThat(atExit.followUpsRun()).isEqualTo(10);
        assertThat(atExit.ranOn()).isEqualTo("doomed");
        assertThat(atExit.pollers()).as("pollers unregistered").isEmpty();
        assertThat(atExit.state()).isEqualTo(KeelThread.State.EXITED);
        assertThat(((MessageRing) t.inbox()).overflowTotal()).as("the burst overflowed the ring").isPositive();

        await().atMost(Duration.ofSeconds(5)).until(() -> !rt.threads().contains(t));
        long runsAfterExit = pollerRuns.get();
        assertThat(t.send(() -> { })).as("messages to an exited thread are refused").isFalse();
        await().pollDelay(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1))
                .untilAsserted(() -> assertThat(pollerRuns.get()).isEqualTo(runsAfterExit));
    }

    @Test
    void exitTwiceEndsOnceAndTellsEachCallerOnce() {
        KeelThread t = rt.createThread("twice");
        AtomicLong callbacks = new AtomicLong();
        CompletableFuture<Void> first = new CompletableFuture<>();

        OnThread.run(t, () -> {
            t.exit(() -> {
                callbacks.incrementAndGet();
                first.complete(null);
            });
            t.exit(callbacks::incrementAndGet);
        });

        OnThread.await(first);
        await().pollDelay(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1))
                .untilAsserted(() -> assertThat(callbacks.get()).as("one callback per exit call").isEqualTo(2));
        assertThat(t.state()).isEqualTo(KeelThread.State.EXITED);
    }
}
