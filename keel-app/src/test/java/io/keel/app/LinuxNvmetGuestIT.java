package io.keel.app;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.app.nvme.HostLoad;
import io.keel.bdev.BdevTestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real peer for Keel's NVMe-oF host: the Linux kernel's own NVMe/TCP target ({@link LinuxNvmetGuest}) attached
 * through {@code bdev_nvme_attach_controller}. Written and read back with verification from two threads (two I/O
 * queues), 4 KiB in the capsule and 128 KiB through R2T; then a namespace added on the target appears as a bdev
 * through the kernel's asynchronous event and goes again when removed; then a clean detach. The guest's log stays
 * in keel-app/target/linux-nvmet-guest/.
 */
class LinuxNvmetGuestIT {
    private static final int SIZE_MB = 64;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void keelsHostVerifiesDataAndFollowsNamespacesOnTheKernelTarget() throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target/linux-nvmet-guest");
        try (LinuxNvmetGuest nvmet = LinuxNvmetGuest.start(out, SIZE_MB, Duration.ofMinutes(3));
                BdevTestApp host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")))) {
            // the guest runs under TCG emulation on a shared machine: a generous keep-alive
            host.rpc("bdev_nvme_set_options", params("keep_alive_timeout_ms", 30_000));
            JsonNode names = host.rpc("bdev_nvme_attach_controller", params("name", "Nvme0", "trtype", "tcp",
                    "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid", Integer.toString(nvmet.port()), "subnqn",
                    nvmet.subnqn()));
            assertThat(names.toString()).isEqualTo("[\"Nvme0n1\"]");
            JsonNode b = host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")).get(0);
            assertThat(b.get("num_blocks").asLong() * b.get("block_size").asInt()).isEqualTo(nvmet.sizeBytes());
            JsonNode ctrlr = b.get("driver_specific").get("nvme").get(0).get("ctrlr_data");
            System.out.println("nvmet as the host sees it: " + ctrlr);
            assertThat(ctrlr.get("model_number").asText()).isEqualTo("Linux");

            List<HostLoad> loads = List.of(new HostLoad(host.thread("small", 0), "Nvme0n1", 0, 4, 8, 8),
                    new HostLoad(host.thread("large", 1), "Nvme0n1", 65536, 2, 4, 256));
            loads.forEach(l -> l.start(host.layer()));
            await().atMost(Duration.ofSeconds(60)).until(() -> loads.stream().allMatch(l -> l.completed() > 40));
            for (HostLoad l : loads) {
                HostLoad.Result r = l.stop().get(60, TimeUnit.SECONDS);
                assertThat(r.failures()).isZero();
                assertThat(r.mismatches()).isZero();
                assertThat(r.reads()).isPositive();
            }

            nvmet.addNamespace(2);
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> host.rpc("bdev_get_bdevs", params("name", "Nvme0n2")).size() == 1);
            nvmet.removeNamespace(2);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                try {
                    host.rpc("bdev_get_bdevs", params("name", "Nvme0n2"));
                    return false;
                } catch (BdevTestApp.RpcError e) {
                    return e.code == -19;
                }
            });
            assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
            assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
        }
    }
}
