package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many producers, one consumer: three plain OS threads and four lightweight threads (on both reactors) each
 * send numbered messages to one thread whose ring holds only 64, so most messages take the overflow path.
 * Whatever the interleaving across senders, each sender's messages arrive in the order it sent them, and
 * none is lost or duplicated.
 */
class PerSenderOrderTest {
    private static final int PER_SENDER = 3_000;
    private static final int OS_SENDERS = 3;
    private static final int LIGHTWEIGHT_SENDERS = 4;
    private static final int TOTAL = PER_SENDER * (OS_SENDERS + LIGHTWEIGHT_SENDERS);

    private record Numbered(String sender, int seq) {
    }

    /** Checks arrival order; lives on the receiving thread only. */
    private static final class Receiver {
        final Map<String, Integer> expectedNext = new HashMap<>();
        final List<String> violations = new ArrayList<>();
        final CompletableFuture<Void> allArrived = new CompletableFuture<>();
        int received;

        void accept(Numbered m) {
            int expected = expectedNext.getOrDefault(m.sender(), 0);
            if (m.seq() != expected && violations.size() < 10) {
                violations.add(m.sender() + ": got " + m.seq() + ", expected " + expected);
            }
            expectedNext.put(m.sender(), m.seq() + 1);
            if (++received == TOTAL) {
                allArrived.complete(null);
            }
        }
    }

    @Test
    void eachSendersMessagesArriveInOrderThroughASmallRingAndItsOverflow() throws Exception {
        try (ReactorRuntime rt = ReactorRuntime.start(new ReactorOptions(CpuMask.of(0, 1), true, false, 100, 64))) {
            KeelThread target = rt.createThread("target", CpuMask.of(0));
            Receiver receiver = new Receiver();
            MessageFn<Numbered> deliver = receiver::accept;
            CountDownLatch go = new CountDownLatch(1);
            // The target starts by waiting (test-only) until the OS senders are well into their bursts, so the
            // 64-slot ring certainly fills and the overflow path is taken.
            CountDownLatch burstsUnderWay = new CountDownLatch(OS_SENDERS);
            target.send(() -> {
                try {
                    burstsUnderWay.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            for (int i = 0; i < LIGHTWEIGHT_SENDERS; i++) {
                String name = "lw" + i;
                KeelThread sender = rt.createThread(name, CpuMask.of(i % 2));
                sender.send(() -> {
                    int[] next = {0};
                    Poller[] self = new Poller[1];
                    self[0] = KeelThread.current().registerPoller("send_burst", () -> {
                        for (int b = 0; b < 50 && next[0] < PER_SENDER; b++) {
                            target.send(deliver, new Numbered(name, next[0]++));
                        }
                        if (next[0] == PER_SENDER) {
                            self[0].unregister();
                        }
                        return PollerFn.BUSY;
                    });
                });
            }
            List<Thread> osSenders = new ArrayList<>();
            for (int i = 0; i < OS_SENDERS; i++) {
                String name = "os" + i;
                osSenders.add(Thread.ofPlatform().name(name).start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int seq = 0; seq < PER_SENDER; seq++) {
                        target.send(deliver, new Numbered(name, seq));
                        if (seq == 200) {
                            burstsUnderWay.countDown();
                        }
                    }
                }));
            }
            go.countDown();

            OnThread.await(receiver.allArrived);
            for (Thread t : osSenders) {
                t.join();
            }

            List<String> violations = OnThread.call(target, () -> List.copyOf(receiver.violations));
            Map<String, Integer> counts = OnThread.call(target, () -> Map.copyOf(receiver.expectedNext));
            assertThat(violations).isEmpty();
            assertThat(counts).hasSize(OS_SENDERS + LIGHTWEIGHT_SENDERS).allSatisfy((s, n) -> assertThat(n).isEqualTo(PER_SENDER));
            assertThat(((MessageRing) target.inbox()).overflowTotal()).as("the overflow path was taken").isPositive();
        }
    }
}
