package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevTestApp;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target goes away under a host with I/O running on two threads, and (maybe) comes back on the same port
 * with the same data: the reconnect policy of {@code bdev_nvme_attach_controller} decides what the I/O sees.
 * Queued until the controller is back (no error, data intact); failed after {@code fast_io_fail_timeout_sec}; the
 * controller deleted cleanly after {@code ctrlr_loss_timeout_sec}. The target stops as a killed process would look
 * to the host: its connections close and nothing answers on the port.
 */
class NvmeReconnectTest {
    static final long BLOCKS = 4096;

    @TempDir
    Path dir;
    NvmeTarget target;
    BdevTestApp host;
    Path file;
    int port;

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (target != null) {
            target.close();
        }
    }

    private void start(Object... policy) throws Exception {
        file = dir.resolve("ns1.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(BLOCKS * 512);
        }
        port = NvmeTarget.freePort();
        target = NvmeTarget.startOnFile(dir, file, port);
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
        host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", policy));
    }

    private List<HostLoad> load() {
        List<HostLoad> loads = List.of(new HostLoad(host.thread("load0", 0), "Nvme0n1", 0, 4, 16),
                new HostLoad(host.thread("load1", 1), "Nvme0n1", 1024, 4, 16));
        loads.forEach(l -> l.start(host.layer()));
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().allMatch(l -> l.completed() > 50));
        return loads;
    }

    private String state() {
        var c = host.rpc("bdev_nvme_get_controllers", null);
        return c.isEmpty() || c.get(0).get("ctrlrs").isEmpty() ? "gone"
                : c.get(0).get("ctrlrs").get(0).get("state").asText();
    }

    private void kill() throws Exception {
        target.close();
        target = null;
    }

    @Test
    void ioWaitsWhileTheTargetIsAwayAndResumesIntactWhenItComesBack() throws Exception {
        start("ctrlr_loss_timeout_sec", 30, "reconnect_delay_sec", 1);
        List<HostLoad> loads = load();
        kill();
        await().atMost(Duration.ofSeconds(5)).until(() -> List.of("resetting", "reconnect_is_delayed")
                .contains(state()));
        long frozen = loads.stream().mapToLong(HostLoad::completed).sum();
        Thread.sleep(1500);
        assertThat(loads.stream().mapToLong(HostLoad::completed).sum()).as("no I/O ends while the target is away")
                .isEqualTo(frozen);
        target = NvmeTarget.startOnFile(dir, file, port);
        await().atMost(Duration.ofSeconds(10)).until(() -> state().equals("enabled"));
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().mapToLong(HostLoad::completed).sum()
                > frozen + 100);
        for (HostLoad l : loads) {
            HostLoad.Result r = l.stop().get(10, TimeUnit.SECONDS);
            assertThat(r.failures()).as("queued, not failed").isZero();
            assertThat(r.mismatches()).isZero();
            assertThat(r.maxLatencyMs()).as("some I/O waited out the outage").isGreaterThanOrEqualTo(1000);
        }
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
    }

    @Test
    void queuedIoFailsAfterFastIoFailTimeoutAndFlowsAgainOnceTheTargetIsBack() throws Exception {
        start("ctrlr_loss_timeout_sec", 30, "reconnect_delay_sec", 1, "fast_io_fail_timeout_sec", 1);
        List<HostLoad> loads = load();
        kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().allMatch(l -> l.failures() > 0));
        assertThat(state()).isIn("resetting", "reconnect_is_delayed");
        target = NvmeTarget.startOnFile(dir, file, port);
        await().atMost(Duration.ofSeconds(10)).until(() -> state().equals("enabled"));
        long after = loads.stream().mapToLong(HostLoad::completed).sum();
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().mapToLong(HostLoad::completed).sum()
                > after + 100);
        for (HostLoad l : loads) {
            assertThat(l.stop().get(10, TimeUnit.SECONDS).mismatches()).isZero();
        }
    }

    @Test
    void theControllerIsDeletedCleanlyOnceCtrlrLossTimeoutPasses() throws Exception {
        start("ctrlr_loss_timeout_sec", 2, "reconnect_delay_sec", 1);
        List<HostLoad> loads = load();
        long t0 = System.nanoTime();
        kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> state().equals("gone"));
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(1500L, 8000L);
        for (HostLoad l : loads) {
            HostLoad.Result r = l.stop().get(10, TimeUnit.SECONDS);
            assertThat(r.removed()).as("the bdev went away under the load").isTrue();
            assertThat(r.mismatches()).isZero();
        }
        try {
            host.rpc("bdev_get_bdevs", params("name", "Nvme0n1"));
            throw new AssertionError("Nvme0n1 still exists");
        } catch (BdevTestApp.RpcError e) {
            assertThat(e.code).isEqualTo(-19);
        }
        assertThat(host.layer().poolAvailable()).as("every bdev_io back").isEqualTo(host.layer().poolSize());
        target = NvmeTarget.startOnFile(dir, file, port);
        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0")).get(0).asText())
                .isEqualTo("Nvme0n1");
    }
}
