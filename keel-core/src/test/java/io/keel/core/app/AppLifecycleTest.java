package io.keel.core.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.PollerFn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppLifecycleTest {
    @TempDir
    Path dir;

    private AppOptions options() {
        return AppOptions.defaults().withCores(CpuMask.of(0, 1)).withInterruptMode(true).withRpcSocket(dir.resolve("keel.sock"));
    }

    @Test
    void subsystemsInitialiseInDependencyOrderAndFinishInReverse() throws Exception {
        List<String> journal = new CopyOnWriteArrayList<>();
        KeelApp app = KeelApp.create(options());
        // registered out of order on purpose: nvmf needs bdev, bdev needs the real iobuf subsystem
        app.subsystems().add(new RecordingSubsystem("nvmf", List.of("bdev2"), journal));
        app.subsystems().add(new RecordingSubsystem("bdev2", List.of("iobuf"), journal));
        app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> app.state() == KeelApp.State.RUNNING);
        assertThat(journal).containsExactly("init bdev2", "init nvmf");

        try (TestRpcClient c = new TestRpcClient(app.options().rpcSocket())) {
            JsonNode subsystems = c.result("framework_get_subsystems", null);
            assertThat(subsystems.findValuesAsText("subsystem")).containsSubsequence("iobuf", "bdev2", "nvmf");
            assertThat(subsystems.get(subsystems.size() - 1).get("depends_on").get(0).asText()).isEqualTo("bdev2");
        }
        app.shutdown();
        assertThat(app.awaitExit(10_000)).isZero();
        assertThat(journal).endsWith("fini nvmf", "fini bdev2");
        assertThat(Files.exists(app.options().rpcSocket())).as("socket removed on shutdown").isFalse();
    }

    @Test
    void waitForRpcHoldsInitialisationUntilFrameworkStartInit() throws Exception {
        List<String> journal = new CopyOnWriteArrayList<>();
        KeelApp app = KeelApp.create(options().withWaitForRpc(true));
        app.subsystems().add(new RecordingSubsystem("bdev", List.of(), journal));
        app.start();
        try (TestRpcClient c = new TestRpcClient(awaitSocket(app))) {
            JsonNode early = c.call("framework_get_reactors", null);
            assertThat(early.get("error").get("code").asInt()).isEqualTo(-1);
            assertThat(c.result("rpc_get_methods", Map.of("current", true)).toString())
                    .contains("framework_start_init").doesNotContain("framework_get_reactors");
            // allowed before init: scheduler options, as SPDK
            c.result("framework_set_scheduler", Map.of("name", "static", "period", 250000));
            assertThat(journal).isEmpty();

            assertThat(c.result("framework_start_init", null).asBoolean()).isTrue();
            assertThat(c.result("framework_wait_init", null).asBoolean()).isTrue();
            assertThat(journal).containsExactly("init bdev");
            assertThat(c.result("framework_get_scheduler", null).get("scheduler_period").asLong()).isEqualTo(250000);
            JsonNode again = c.call("framework_start_init", null);
            assertThat(again.get("error").get("code").asInt()).as("start_init only once").isEqualTo(-1);
        }
        app.shutdown();
        assertThat(app.awaitExit(10_000)).isZero();
    }

    @Test
    void gracefulShutdownDrainsWorkInFlight() throws Exception {
        AtomicLong sent = new AtomicLong();
        AtomicLong ran = new AtomicLong();
        List<String> journal = new CopyOnWriteArrayList<>();
        KeelApp app = KeelApp.create(options());
        app.subsystems().add(new Subsystem() {
            @Override
            public String name() {
                return "busy";
            }

            @Override
            public void init(java.util.function.Consumer<Throwable> done) {
                KeelThread worker = app.runtime().createThread("worker", CpuMask.of(1));
                worker.send(() -> {
                    // keeps a stream of messages in flight to itself until the thread is told to exit
                    worker.registerPoller("feeder", () -> {
                        for (int i = 0; i < 100; i++) {
                            sent.incrementAndGet();
                            worker.send(AtomicLong::incrementAndGet, ran);
                        }
                        return PollerFn.BUSY;
                    });
                    done.accept(null);
                });
            }

            @Override
            public void fini(Runnable done) {
                journal.add("fini busy");
                done.run();
            }
        });
        app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> ran.get() > 10_000);
        KeelThread worker = app.runtime().threads().stream().filter(t -> t.name().equals("worker")).findFirst().orElseThrow();
        app.shutdown();
        assertThat(app.awaitExit(10_000)).isZero();
        assertThat(journal).containsExactly("fini busy");
        assertThat(worker.state()).isEqualTo(KeelThread.State.EXITED);
        assertThat(ran.get()).as("every message sent before exit ran").isEqualTo(sent.get());
    }

    private static Path awaitSocket(KeelApp app) {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.options().rpcSocket()));
        return app.options().rpcSocket();
    }
}
