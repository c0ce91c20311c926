package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevTestApp;
import io.keel.core.testing.LogCapture;
import io.keel.core.thread.KeelThread;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nvme bdev module against Keel's own NVMe/TCP target, each in its own application in this JVM: attach answers
 * the bdev names, the bdev and controller read as SPDK reports them, detach takes everything away and an attach
 * of the same controller works again at once, and namespaces added and removed on the target come and go as bdevs.
 */
class NvmeBdevTest {
    @TempDir
    Path dir;
    NvmeTarget target;
    BdevTestApp host;

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (target != null) {
            target.close();
        }
    }

    void start() throws Exception {
        target = NvmeTarget.start(dir, 8192);
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
    }

    @Test
    void attachServesTheNamespaceAsABdevAndDetachTakesItAwayForGood() throws Exception {
        start();
        JsonNode names = host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0"));
        assertThat(names.toString()).isEqualTo("[\"Nvme0n1\"]");

        JsonNode b = host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")).get(0);
        assertThat(b.get("product_name").asText()).isEqualTo("NVMe disk");
        assertThat(b.get("block_size").asInt()).isEqualTo(512);
        assertThat(b.get("num_blocks").asLong()).isEqualTo(8192);
        JsonNode nvme = b.get("driver_specific").get("nvme").get(0);
        assertThat(nvme.get("trid").get("trsvcid").asText()).isEqualTo(Integer.toString(target.port));
        assertThat(nvme.get("trid").get("subnqn").asText()).isEqualTo(NvmeTarget.NQN);
        assertThat(nvme.get("ns_data").get("id").asInt()).isEqualTo(1);
        assertThat(b.get("driver_specific").get("mp_policy").asText()).isEqualTo("active_passive");

        JsonNode ctrlrs = host.rpc("bdev_nvme_get_controllers", null);
        assertThat(ctrlrs.get(0).get("name").asText()).isEqualTo("Nvme0");
        JsonNode c = ctrlrs.get(0).get("ctrlrs").get(0);
        assertThat(c.get("state").asText()).isEqualTo("enabled");
        assertThat(c.get("trid").get("trtype").asText()).isEqualTo("TCP");
        assertThat(c.get("trid").get("adrfam").asText()).isEqualTo("IPv4");
        assertThat(c.get("cntlid").asInt()).isPositive();
        assertThat(c.get("host").get("nqn").asText()).startsWith("nqn.2014-08.org.nvmexpress:uuid:");

        assertThatThrownBy(() -> host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0")))
                .hasMessageContaining("already exists");

        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
        assertThatThrownBy(() -> host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-19));
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-19));

        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0")).get(0).asText())
                .isEqualTo("Nvme0n1");
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
    }

    @Test
    void namespacesAddedAndRemovedOnTheTargetComeAndGoAsBdevs() throws Exception {
        start();
        host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0"));
        target.app.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 4096, "num_blocks", 256));
        target.app.rpc("nvmf_subsystem_add_ns", params("nqn", NvmeTarget.NQN, "namespace",
                params("bdev_name", "Malloc1", "nsid", 2)));
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> host.rpc("bdev_get_bdevs", params("name", "Nvme0n2")).get(0).get("block_size").asInt()
                        == 4096);
        target.app.rpc("nvmf_subsystem_remove_ns", params("nqn", NvmeTarget.NQN, "nsid", 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                host.rpc("bdev_get_bdevs", params("name", "Nvme0n2"));
                return false;
            } catch (BdevTestApp.RpcError e) {
                return e.code == -19;
            }
        });
        assertThat(host.rpc("bdev_get_bdevs", params("name", "Nvme0n1"))).hasSize(1);
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
    }

    @Test
    void aNamespaceBackWhileItsOldBdevIsStillHeldBecomesANewBdevOnceTheOldOneIsGone() throws Exception {
        start();
        host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0"));
        KeelThread holder = host.thread("holder", 0);
        BdevDesc held = BdevTestApp.on(holder, () -> host.layer().open("Nvme0n1", false, (e, b) -> { }));
        Bdev old = held.bdev();
        try (LogCapture log = LogCapture.of("io.keel.nvme.host.bdev.NvmeBdevCtrlr")) {
            target.app.rpc("nvmf_subsystem_remove_ns", params("nqn", NvmeTarget.NQN, "nsid", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> host.layer().get("Nvme0n1") == null);
            target.app.rpc("nvmf_subsystem_add_ns", params("nqn", NvmeTarget.NQN, "namespace",
                    params("bdev_name", "Malloc0", "nsid", 1)));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> log.lines().stream().anyMatch(l -> l.contains("is back while Nvme0n1")));
            assertThat(host.layer().get("Nvme0n1")).as("no bdev while the old one is held").isNull();

            BdevTestApp.on(holder, () -> {
                held.close();
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> host.layer().get("Nvme0n1") != null);
        }
        Bdev again = host.layer().get("Nvme0n1");
        assertThat(again).isNotSameAs(old);
        assertThat(again.numBlocks()).isEqualTo(old.numBlocks());
        assertThat(host.rpc("bdev_get_bdevs", params("name", "Nvme0n1"))).hasSize(1);
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
    }

    @Test
    void anIoPastTimeoutUsResetsTheControllerAndStillCompletesOnceTheDeviceAnswers() throws Exception {
        target = NvmeTarget.start(dir, 8192);
        target.app.rpc("bdev_malloc_create", params("name", "Slow", "block_size", 512, "num_blocks", 1024));
        target.app.rpc("bdev_delay_create", params("name", "Delay1", "base_bdev_name", "Slow", "avg_read_latency",
                1_000_000, "p99_read_latency", 1_000_000, "avg_write_latency", 0, "p99_write_latency", 0));
        target.app.rpc("nvmf_subsystem_add_ns", params("nqn", NvmeTarget.NQN, "namespace",
                params("bdev_name", "Delay1", "nsid", 2)));
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
        host.rpc("bdev_nvme_set_options", params("timeout_us", 300_000, "action_on_timeout", "reset"));
        try (LogCapture log = LogCapture.of("io.keel.nvme.host.bdev.NvmeCtrlr")) {
            host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", "ctrlr_loss_timeout_sec", -1,
                    "reconnect_delay_sec", 1));
            HostLoad load = new HostLoad(host.thread("slow", 1), "Nvme0n2", 0, 1, 1);
            load.start(host.layer());
            await().atMost(Duration.ofSeconds(10)).until(() -> log.lines().stream()
                    .anyMatch(l -> l.contains("timed out; action reset")));
            await().atMost(Duration.ofSeconds(10)).until(() -> log.lines().stream()
                    .anyMatch(l -> l.contains("resetting (requested)")));
            target.app.rpc("bdev_delay_update_latency", params("delay_bdev_name", "Delay1", "latency_type",
                    "avg_read", "latency_us", 0));
            target.app.rpc("bdev_delay_update_latency", params("delay_bdev_name", "Delay1", "latency_type",
                    "p99_read", "latency_us", 0));
            await().atMost(Duration.ofSeconds(15)).until(() -> load.completed() > 10);
            HostLoad.Result r = load.stop().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.failures()).as("retried after each reset, never failed").isZero();
            assertThat(r.mismatches()).isZero();
        }
    }

    @Test
    void aDetachDuringAttachEndsTheAttachAndTwoDetachesBothComplete() throws Exception {
        start();
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0)) { // accepts, never answers the ICReq
            var attach = host.rpcAsync("bdev_nvme_attach_controller", params("name", "Nvme1", "trtype", "tcp",
                    "traddr", "127.0.0.1", "trsvcid", Integer.toString(silent.getLocalPort()), "subnqn",
                    NvmeTarget.NQN));
            var accepted = silent.accept();
            assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme1")).asBoolean()).isTrue();
            assertThatThrownBy(() -> attach.get(10, java.util.concurrent.TimeUnit.SECONDS))
                    .hasMessageContaining("detached while connecting");
            accepted.close();
        }
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();

        host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0"));
        var first = host.rpcAsync("bdev_nvme_detach_controller", params("name", "Nvme0"));
        var second = host.rpcAsync("bdev_nvme_detach_controller", params("name", "Nvme0"));
        assertThat(first.get(10, java.util.concurrent.TimeUnit.SECONDS).asBoolean()).isTrue();
        assertThat(second.handle((r, e) -> r != null ? "true" : e.getMessage()).get(10,
                java.util.concurrent.TimeUnit.SECONDS)).as("the second waits for the first (or finds it gone)")
                .satisfiesAnyOf(v -> assertThat(v).isEqualTo("true"), v -> assertThat(v).contains("No such device"));
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
    }

    @Test
    void anAttachThatCannotConnectFailsWithAClearErrorAndLeavesNothingBehind() throws Exception {
        start();
        int nobody = NvmeTarget.freePort();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_attach_controller", params("name", "Nvme9", "trtype", "tcp",
                "traddr", "127.0.0.1", "trsvcid", Integer.toString(nobody), "subnqn", NvmeTarget.NQN)))
                .hasMessageContaining("Unable to attach Nvme9");
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_attach_controller", params("name", "Nvme9", "trtype", "fc",
                "traddr", "127.0.0.1", "subnqn", NvmeTarget.NQN))).hasMessageContaining("not supported");
    }
}
