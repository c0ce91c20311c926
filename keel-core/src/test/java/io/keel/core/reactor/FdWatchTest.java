package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A lightweight thread watches a non-blocking channel (here a pipe) on its reactor. In interrupt mode the
 * reactor sleeps in the selector, so bytes written from another OS thread wake it and the handler runs on the
 * watching thread; after cancel, the reactor no longer wakes for it.
 */
class FdWatchTest {
    private ReactorRuntime rt;
    private Pipe pipe;

    @BeforeEach
    void start() throws IOException {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        pipe = Pipe.open();
        pipe.source().configureBlocking(false);
    }

    @AfterEach
    void stop() throws IOException {
        rt.close();
        pipe.source().close();
        pipe.sink().close();
    }

    private void write(String text) throws IOException {
        pipe.sink().write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Reads what is there; runs on the watching thread. */
    private FdWatch watchPipe(KeelThread t, List<String> received) {
        ByteBuffer buf = ByteBuffer.allocate(256);
        return t.watch(pipe.source(), SelectionKey.OP_READ, ready -> {
            try {
                buf.clear();
                int n = pipe.source().read(buf);
                if (n > 0) {
                    received.add(new String(buf.array(), 0, n, StandardCharsets.US_ASCII) + " on " + KeelThread.current().name());
                }
                return Math.max(n, 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void bytesOnAWatchedPipeWakeTheSleepingReactorAndRunTheHandlerOnItsThread() throws Exception {
        KeelThread t = rt.createThread("sock_reader", CpuMask.of(1));
        Reactor reactor = rt.reactorOf(t);
        List<String> received = new CopyOnWriteArrayList<>();
        OnThread.run(t, () -> watchPipe(t, received));
        Thread.sleep(50);
        long asleepAt = reactor.iterations();
        Thread.sleep(50);
        assertThat(reactor.iterations()).as("the reactor sleeps in the selector").isLessThanOrEqualTo(asleepAt + 1);

        write("ping");

        await().atMost(Duration.ofSeconds(2)).until(() -> !received.isEmpty());
        assertThat(received).containsExactly("ping on sock_reader");
        write("pong");
        await().atMost(Duration.ofSeconds(2)).until(() -> received.size() == 2);
        assertThat(received).endsWith("pong on sock_reader");
    }

    @Test
    void afterCancelTheHandlerIsNoLongerCalled() throws Exception {
        KeelThread t = rt.createThread("sock_reader", CpuMask.of(1));
        List<String> received = new CopyOnWriteArrayList<>();
        FdWatch watch = OnThread.call(t, () -> watchPipe(t, received));
        write("one");
        await().atMost(Duration.ofSeconds(2)).until(() -> received.size() == 1);

        OnThread.run(t, () -> {
            watch.cancel();
            watch.cancel(); // idempotent
        });
        write("two");

        await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(1))
                .untilAsserted(() -> assertThat(received).containsExactly("one on sock_reader"));
    }

    @Test
    void onlyTheOwningThreadMayWatch() {
        KeelThread t = rt.createThread("owner");

        assertThatIllegalStateException().isThrownBy(() -> t.watch(pipe.source(), SelectionKey.OP_READ, ready -> 0))
                .withMessageContaining("only thread owner may");
    }
}
