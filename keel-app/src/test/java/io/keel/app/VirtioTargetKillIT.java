package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
 * The virtio-user initiator's back end killed with real processes: {@code keel bdevperf -w verify} runs over the
 * virtio bdev module against a {@code keel start} vhost-blk controller, and the target is killed with SIGKILL
 * mid-run. The initiator sees the socket close, fails what was in flight and removes the bdev; bdevperf ends on its
 * own at the failed I/O, never hanging.
 */
class VirtioTargetKillIT {
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

    @Test
    void aKilledTargetRemovesTheVirtioBdevAndTheRunEndsByItself() throws Exception {
        Path cfg = dir.resolve("target.json");
        Files.writeString(cfg, """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 32768, "block_size": 512}}
                  ]},
                  {"subsystem": "vhost_blk", "config": [
                    {"method": "vhost_create_blk_controller", "params": {"ctrlr": "vhost.0", "dev_name": "Malloc0"}}
                  ]}
                ]}
                """);
        Path targetLog = dir.resolve("target.log");
        Process t = KeelProcess.start(targetLog, "start", "-c", cfg.toString(), "-S", dir.toString(), "-r",
                dir.resolve("t.sock").toString(), "--interrupt-mode", "-m", "0x2");
        started.add(t);
        Path socket = dir.resolve("vhost.0");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(socket) || !t.isAlive());
        assertThat(t.isAlive()).as("target log:\n%s", KeelProcess.log(targetLog)).isTrue();

        Path hostCfg = dir.resolve("host.json");
        Files.writeString(hostCfg, """
                {"subsystems": [{"subsystem": "bdev", "config": [
                  {"method": "bdev_virtio_attach_controller", "params": {"name": "VirtioBlk0", "trtype": "user",
                    "traddr": "%s", "dev_type": "blk", "vq_size": 128}}
                ]}]}
                """.formatted(socket));
        Path log = dir.resolve("bdevperf.log");
        Process b = KeelProcess.start(log, "bdevperf", "-c", hostCfg.toString(), "-q", "8", "-o", "4096", "-w",
                "verify", "-t", "30", "-T", "VirtioBlk0", "-m", "0x1", "--interrupt-mode", "-r",
                dir.resolve("h.sock").toString());
        started.add(b);
        await().atMost(Duration.ofSeconds(60)).until(() -> KeelProcess.log(log).contains("Running I/O") || !b.isAlive());
        Thread.sleep(2000);
        t.destroyForcibly(); // SIGKILL: no shutdown, the kernel closes its sockets
        assertThat(t.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(b.waitFor(20, TimeUnit.SECONDS)).as("bdevperf ends long before its 30 s; log:\n%s",
                KeelProcess.log(log)).isTrue();
        String out = KeelProcess.log(log);
        // the I/O in flight failed (bdevperf ends a job at its first error, as SPDK's), nothing read back wrong
        assertThat(out).contains("went away").contains("failed with status FAILED").contains("0 miscompared");
    }
}
