package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A thread exits while another OS thread keeps sending to it, as an RPC or a forEachThread walk may. Every
 * send either is refused (returns false) or its message runs before the thread is gone: a message accepted and
 * then silently dropped would leave its sender waiting for a reply that never comes (rule R5).
 */
class ExitRacesWithSendersTest {
    private static final int ROUNDS = 150;
    private static final long MAX_PER_ROUND = 1_000_000;

    @Test
    void everyAcceptedMessageRunsEvenWhenTheExitRacesWithTheSender() throws Exception {
        long accepted = 0;
        long ran = 0;
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            for (int round = 0; round < ROUNDS; round++) {
                KeelThread t = rt.createThread("exiting" + round, CpuMask.of(1));
                AtomicLong runs = new AtomicLong();
                long[] sent = {0};
                Thread sender = Thread.ofPlatform().start(() -> {
                    // until refused; the cap only bounds a round in which the reactor cannot keep up
                    while (sent[0] < MAX_PER_ROUND && t.send(runs::incrementAndGet)) {
                        sent[0]++;
                    }
                });
                CompletableFuture<Long> exited = new CompletableFuture<>();
                t.exit(() -> exited.complete(runs.get()));

                long ranBeforeExit = OnThread.await(exited);
                sender.join();
                accepted += sent[0];
                ran += ranBeforeExit;
                assertThat(runs.get()).as("nothing runs after the exit callback").isEqualTo(ranBeforeExit);
            }
        }
        assertThat(ran).as("messages run, of %d accepted", accepted).isEqualTo(accepted);
    }
}
