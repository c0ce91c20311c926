package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario S5 with real processes: {@code keel bdevperf -w verify} runs over the nvme bdev module against a
 * {@code keel start} target serving a file, and the target is killed with SIGKILL mid-run. With a reconnect policy
 * the host queues the I/O, reconnects when the target is started again on the same port and the run ends with
 * every block verified and no failed I/O; with a short {@code ctrlr_loss_timeout_sec} and no target coming back,
 * the controller is deleted and bdevperf ends on its own, reporting the bdev removed, never hanging.
 */
class NvmeHostKillIT {
    static final String NQN = "nqn.2016-06.io.keel:s5";

    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
    }

    private Process target(Path file, int port, String tag) throws Exception {
        Path cfg = dir.resolve("target-" + tag + ".json");
        Files.writeString(cfg, """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_uring_create", "params": {"name": "Disk0", "filename": "%s", "block_size": 512}}
                  ]},
                  {"subsystem": "nvmf", "config": [
                    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
                    {"method": "nvmf_create_subsystem", "params": {"nqn": "%s", "allow_any_host": true}},
                    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "%s", "namespace": {"bdev_name": "Disk0"}}},
                    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "%s", "listen_address":
                      {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%d"}}}
                  ]}
                ]}
                """.formatted(file, NQN, NQN, NQN, port));
        Path log = dir.resolve("target-" + tag + ".log");
        Process p = KeelProcess.start(log, "start", "-c", cfg.toString(), "-r", dir.resolve("t-" + tag + ".sock")
                .toString(), "--interrupt-mode", "-m", "0x2");
        started.add(p);
        await().atMost(Duration.ofSeconds(60)).until(() -> listening(port) || !p.isAlive());
        assertThat(p.isAlive()).as("target log:\n%s", KeelProcess.log(log)).isTrue();
        return p;
    }

    private Process bdevperf(int port, int seconds, String policy, Path log) throws Exception {
        return bdevperf(port, seconds, policy, 10_000, log);
    }

    private Process bdevperf(int port, int seconds, String policy, int keepAliveMs, Path log) throws Exception {
        Path cfg = dir.resolve("host.json");
        Files.writeString(cfg, """
                {"subsystems": [{"subsystem": "bdev", "config": [
                  {"method": "bdev_nvme_set_options", "params": {"keep_alive_timeout_ms": %d}},
                  {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", "trtype": "TCP",
                    "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%d", "subnqn": "%s", %s}}
                ]}]}
                """.formatted(keepAliveMs, port, NQN, policy));
        Process p = KeelProcess.start(log, "bdevperf", "-c", cfg.toString(), "-q", "8", "-o", "4096", "-w", "verify",
                "-t", Integer.toString(seconds), "-T", "Nvme0n1", "-m", "0x1", "--interrupt-mode", "-r",
                dir.resolve("h.sock").toString());
        started.add(p);
        return p;
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Path disk() throws IOException {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        return file;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aKilledTargetThatComesBackCostsTheHostNoFailedIo() throws Exception {
        Path file = disk();
        int port = freePort();
        Process t = target(file, port, "1");
        Path log = dir.resolve("bdevperf.log");
        Process b = bdevperf(port, 12, "\"ctrlr_loss_timeout_sec\": 60, \"reconnect_delay_sec\": 1", log);
        await().atMost(Duration.ofSeconds(60)).until(() -> KeelProcess.log(log).contains("Running I/O") || !b.isAlive());
        Thread.sleep(3000);
        t.destroyForcibly(); // SIGKILL: no shutdown, the kernel closes its sockets
        assertThat(t.waitFor(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> KeelProcess.log(log).contains("lost"));
        Thread.sleep(2000);
        target(file, port, "2");
        assertThat(b.waitFor(60, TimeUnit.SECONDS)).as("bdevperf ends; log:\n%s", KeelProcess.log(log)).isTrue();
        String out = KeelProcess.log(log);
        assertThat(b.exitValue()).as(out).isZero();
        assertThat(out).contains("reconnected as cntlid").doesNotContain("verify FAILED");
    }

    @Test
    void aTargetThatStopsAnsweringIsNoticedByKeepAliveAndReconnectedWhenItResumes() throws Exception {
        Path file = disk();
        int port = freePort();
        Process t = target(file, port, "1");
        Path log = dir.resolve("bdevperf.log");
        // SIGSTOP keeps the sockets up and silent: only the keep-alive (1 s here) can tell the host
        Process b = bdevperf(port, 14, "\"ctrlr_loss_timeout_sec\": 60, \"reconnect_delay_sec\": 1, "
                + "\"fabrics_connect_timeout_us\": 1000000", 1000, log);
        await().atMost(Duration.ofSeconds(60)).until(() -> KeelProcess.log(log).contains("Running I/O") || !b.isAlive());
        Thread.sleep(2000);
        signal(t, "STOP");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> KeelProcess.log(log).contains("keep-alive not answered"));
        } finally {
            Thread.sleep(1000);
            signal(t, "CONT");
        }
        assertThat(b.waitFor(60, TimeUnit.SECONDS)).as("bdevperf ends; log:\n%s", KeelProcess.log(log)).isTrue();
        String out = KeelProcess.log(log);
        assertThat(b.exitValue()).as(out).isZero();
        assertThat(out).contains("reconnected as cntlid").doesNotContain("verify FAILED");
    }

    private static void signal(Process p, String sig) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start().waitFor()).isZero();
    }

    @Test
    void withNoTargetBackTheControllerIsDeletedAndTheRunEndsByItself() throws Exception {
        Path file = disk();
        int port = freePort();
        Process t = target(file, port, "1");
        Path log = dir.resolve("bdevperf.log");
        Process b = bdevperf(port, 15, "\"ctrlr_loss_timeout_sec\": 3, \"reconnect_delay_sec\": 1", log);
        await().atMost(Duration.ofSeconds(60)).until(() -> KeelProcess.log(log).contains("Running I/O") || !b.isAlive());
        Thread.sleep(2000);
        t.destroyForcibly();
        assertThat(b.waitFor(40, TimeUnit.SECONDS)).as("bdevperf ends; log:\n%s", KeelProcess.log(log)).isTrue();
        String out = KeelProcess.log(log);
        assertThat(out).contains("not back within ctrlr_loss_timeout_sec 3").contains("was removed during the run");
    }
}
