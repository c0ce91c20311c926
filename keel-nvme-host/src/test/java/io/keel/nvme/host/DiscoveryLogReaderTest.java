package io.keel.nvme.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.nvme.host.tcp.TcpHostTransport;
import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvme.spec.IdentifyController;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A discovery controller on the host ({@link FakeController} connected to the discovery NQN): bring-up enables
 * the Discovery Log Page Change notice and submits AERs, the notice reaches the listener, and the log page is read
 * header, entries in pieces, header again, starting over when its generation moves under the reads.
 */
class DiscoveryLogReaderTest {
    private ReactorRuntime rt;
    private FakeController fake;
    private KeelThread thread;
    private HostPollGroup group;
    private final AtomicInteger logChanges = new AtomicInteger();
    private final List<String> lost = new CopyOnWriteArrayList<>();

    private final HostController.Listener listener = new HostController.Listener() {
        @Override
        public void lost(HostController c, String reason) {
            lost.add(reason);
        }

        @Override
        public void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed,
                List<Integer> resized) {
        }

        @Override
        public void discoveryLogChanged(HostController c) {
            logChanges.incrementAndGet();
        }
    };

    @BeforeEach
    void start() throws Exception {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), true));
        fake = new FakeController(16, 512);
        thread = rt.createThread("host_admin", CpuMask.of(0));
        group = OnThread.call(thread, () -> new HostPollGroup(thread));
    }

    @AfterEach
    void stop() throws Exception {
        rt.close();
        fake.close();
    }

    private HostController discoveryController() throws Exception {
        return discoveryController(ControllerOptions.defaults().withKeepAliveMs(1000));
    }

    private HostController discoveryController(ControllerOptions options) throws Exception {
        TransportId nvm = fake.trid();
        TransportId trid = new TransportId("TCP", "IPv4", nvm.traddr(), nvm.trsvcid(), DiscoveryLog.DISCOVERY_NQN);
        CompletableFuture<String> done = new CompletableFuture<>();
        HostController c = OnThread.call(thread, () -> {
            HostController h = new HostController(group, TcpHostTransport.INSTANCE, trid, options, listener);
            h.start(err -> done.complete(err == null ? "ok" : err));
            return h;
        });
        assertThat(OnThread.await(done)).isEqualTo("ok");
        return c;
    }

    private DiscoveryLogPage read(HostController c) {
        CompletableFuture<DiscoveryLogPage> page = new CompletableFuture<>();
        OnThread.run(thread, () -> DiscoveryLogReader.read(c, (p, err) -> {
            if (err != null) {
                page.completeExceptionally(new AssertionError(err));
            } else {
                page.complete(p);
            }
        }));
        return OnThread.await(page);
    }

    private void detach(HostController c) {
        CompletableFuture<Void> d = new CompletableFuture<>();
        OnThread.run(thread, () -> c.detach(() -> d.complete(null)));
        OnThread.await(d);
    }

    @Test
    void aDiscoveryControllerEnablesLogChangeNoticesAndTellsTheListener() throws Exception {
        HostController c = discoveryController();
        assertThat(c.isDiscovery()).isTrue();
        assertThat(fake.lastAsyncEventConfig).isEqualTo(IdentifyController.OAES_DISCOVERY_LOG_CHANGE);
        await().atMost(Duration.ofSeconds(5)).until(() -> fake.aers.get() == 4); // AERL 3
        fake.raiseDiscoveryChange = true; // answered at the next command: a keep-alive within 500 ms
        await().atMost(Duration.ofSeconds(5)).until(() -> logChanges.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> fake.aers.get() == 5); // the AER went out again
        detach(c);
    }

    @Test
    void theLogIsReadHeaderEntriesHeaderAndReadAgainWhenItsGenerationMovedMeanwhile() throws Exception {
        HostController c = discoveryController();
        DiscoveryLogPage first = read(c);
        assertThat(first.genctr()).isEqualTo(1);
        assertThat(first.entries()).extracting(DiscoveryLogPage.Entry::subnqn)
                .containsExactly(FakeController.NQN + 0, FakeController.NQN + 1);
        DiscoveryLogPage.Entry e = first.entries().get(1);
        assertThat(e.isNvm()).isTrue();
        assertThat(e.transportId()).isEqualTo(new TransportId("TCP", "IPv4", "127.0.0.1", 4421,
                FakeController.NQN + 1));
        assertThat(fake.logPageReads.get()).as("header, entries, header").isEqualTo(3);

        // 40 entries take two pieces (32 + 8); one more entry appears after the first piece was read
        fake.discoveryRecords = 40;
        fake.logPageReads.set(0);
        fake.changeLogAfterReads.set(2);
        DiscoveryLogPage page = read(c);
        assertThat(page.genctr()).isEqualTo(2);
        assertThat(page.entries()).hasSize(41);
        for (int i = 0; i < 41; i++) {
            assertThat(page.entries().get(i).subnqn()).isEqualTo(FakeController.NQN + i);
        }
        assertThat(fake.logPageReads.get()).as("4 reads saw generation 1 move; 4 more read generation 2")
                .isEqualTo(8);
        detach(c);
    }

    @Test
    void aReadLeftUnansweredFailsTheControllerWithinTheAdminTimeoutAndIsAnsweredWithAnError() throws Exception {
        HostController c = discoveryController(ControllerOptions.defaults().withTimeouts(10_000, 500));
        fake.answerLogPages = false;
        CompletableFuture<String> err = new CompletableFuture<>();
        long t0 = System.nanoTime();
        OnThread.run(thread, () -> DiscoveryLogReader.read(c, (p, e) -> err.complete(e)));
        assertThat(OnThread.await(err)).contains("Get Log Page 0x70").contains("is FAILED");
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(400L, 5000L);
        assertThat(lost).singleElement().asString().contains("timed out after 500 ms");
        detach(c);
    }

    @Test
    void aReadOfANotReadyControllerIsAnsweredWithAnErrorAndNeverInsideTheCall() throws Exception {
        HostController c = discoveryController();
        detach(c);
        CompletableFuture<String> err = new CompletableFuture<>();
        boolean[] answeredInside = new boolean[1];
        OnThread.run(thread, () -> {
            boolean[] inside = {true};
            DiscoveryLogReader.read(c, (p, e) -> {
                answeredInside[0] = inside[0];
                err.complete(e);
            });
            inside[0] = false;
        });
        assertThat(OnThread.await(err)).contains("is DETACHED");
        assertThat(answeredInside[0]).isFalse();
    }
}
