package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
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
 * Two listeners of one subsystem attached under one name with {@code multipath: "multipath"} are one bdev with
 * two paths. Losing a path under load costs no I/O error (the I/O moves to the other path and the lost one comes
 * back when its listener does); active_active spreads I/O over both.
 */
class NvmeMultipathTest {
    @TempDir
    Path dir;
    NvmeTarget target;
    BdevTestApp host;
    int port2;

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (target != null) {
            target.close();
        }
    }

    private void start() throws Exception {
        target = NvmeTarget.start(dir, 8192);
        port2 = NvmeTarget.freePort();
        target.listen(port2);
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
        host.rpc("bdev_nvme_set_options", params("io_path_stat", true));
        Object[] policy = {"multipath", "multipath", "ctrlr_loss_timeout_sec", -1, "reconnect_delay_sec", 1};
        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", policy)).toString())
                .isEqualTo("[\"Nvme0n1\"]");
        Object[] second = new Object[policy.length + 2];
        System.arraycopy(policy, 0, second, 0, policy.length);
        second[policy.length] = "trsvcid";
        second[policy.length + 1] = Integer.toString(port2);
        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", second)).toString())
                .isEqualTo("[\"Nvme0n1\"]");
    }

    private List<HostLoad> load() {
        List<HostLoad> loads = List.of(new HostLoad(host.thread("mp0", 0), "Nvme0n1", 0, 4, 16),
                new HostLoad(host.thread("mp1", 1), "Nvme0n1", 2048, 4, 16));
        loads.forEach(l -> l.start(host.layer()));
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().allMatch(l -> l.completed() > 50));
        return loads;
    }

    private List<String> states() {
        List<String> out = new ArrayList<>();
        host.rpc("bdev_nvme_get_controllers", params("name", "Nvme0")).get(0).get("ctrlrs")
                .forEach(c -> out.add(c.get("trid").get("trsvcid").asText() + ":" + c.get("state").asText()));
        return out;
    }

    private long writesThrough(int port) {
        long n = 0;
        for (JsonNode g : host.rpc("bdev_nvme_get_io_paths", params("name", "Nvme0n1")).get("poll_groups")) {
            for (JsonNode p : g.get("io_paths")) {
                if (p.get("transport").get("trsvcid").asText().equals(Integer.toString(port))) {
                    n += p.get("io_stat").get("num_write_ops").asLong();
                }
            }
        }
        return n;
    }

    @Test
    void twoListenersAreOneBdevWithTwoPathsAndLosingOneCostsNoIoError() throws Exception {
        start();
        JsonNode b = host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")).get(0);
        assertThat(b.get("driver_specific").get("nvme")).hasSize(2);
        assertThat(states()).containsExactly(target.port + ":enabled", port2 + ":enabled");

        List<HostLoad> loads = load();
        JsonNode groups = host.rpc("bdev_nvme_get_io_paths", null).get("poll_groups");
        assertThat(groups).hasSize(2);
        for (JsonNode g : groups) {
            assertThat(g.get("io_paths")).hasSize(2);
            assertThat(g.get("io_paths").get(0).get("current").asBoolean()).as("active_passive: the first path")
                    .isTrue();
        }
        long before = writesThrough(port2);

        target.app.rpc("nvmf_subsystem_remove_listener", params("nqn", NvmeTarget.NQN, "listen_address",
                NvmeTarget.address(target.port)));
        await().atMost(Duration.ofSeconds(10)).until(() -> !states().contains(target.port + ":enabled"));
        await().atMost(Duration.ofSeconds(10)).until(() -> writesThrough(port2) > before + 100);
        assertThat(loads.stream().mapToLong(HostLoad::failures).sum()).isZero();

        target.listen(target.port);
        await().atMost(Duration.ofSeconds(15)).until(() -> states().contains(target.port + ":enabled"));
        long back = writesThrough(target.port);
        await().atMost(Duration.ofSeconds(10)).until(() -> writesThrough(target.port) > back + 100);
        for (HostLoad l : loads) {
            HostLoad.Result r = l.stop().get(10, TimeUnit.SECONDS);
            assertThat(r.failures()).isZero();
            assertThat(r.mismatches()).isZero();
        }
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0", "trsvcid",
                Integer.toString(port2))).asBoolean()).isTrue();
        assertThat(states()).containsExactly(target.port + ":enabled");
        assertThat(host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")).get(0).get("driver_specific").get("nvme"))
                .hasSize(1);
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
    }

    @Test
    void failoverKeepsOneControllerAndMovesItToTheOtherAddressWhenTheFirstIsLost() throws Exception {
        target = NvmeTarget.start(dir, 8192);
        port2 = NvmeTarget.freePort();
        target.listen(port2);
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
        Object[] policy = {"ctrlr_loss_timeout_sec", -1, "reconnect_delay_sec", 1};
        host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", policy));
        Object[] second = {"ctrlr_loss_timeout_sec", -1, "reconnect_delay_sec", 1, "multipath", "failover",
            "trsvcid", Integer.toString(port2)};
        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0", second)).toString())
                .isEqualTo("[\"Nvme0n1\"]");
        JsonNode c = host.rpc("bdev_nvme_get_controllers", null).get(0).get("ctrlrs");
        assertThat(c).hasSize(1);
        assertThat(c.get(0).get("trid").get("trsvcid").asText()).isEqualTo(Integer.toString(target.port));
        assertThat(c.get(0).get("alternate_trids").get(0).get("trsvcid").asText()).isEqualTo(Integer.toString(port2));

        List<HostLoad> loads = load();
        target.app.rpc("nvmf_subsystem_remove_listener", params("nqn", NvmeTarget.NQN, "listen_address",
                NvmeTarget.address(target.port)));
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            JsonNode now = host.rpc("bdev_nvme_get_controllers", null).get(0).get("ctrlrs").get(0);
            return now.get("state").asText().equals("enabled")
                    && now.get("trid").get("trsvcid").asText().equals(Integer.toString(port2));
        });
        long after = loads.stream().mapToLong(HostLoad::completed).sum();
        await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().mapToLong(HostLoad::completed).sum()
                > after + 100);
        for (HostLoad l : loads) {
            HostLoad.Result r = l.stop().get(10, TimeUnit.SECONDS);
            assertThat(r.failures()).isZero();
            assertThat(r.mismatches()).isZero();
        }
        String saved = host.rpc("framework_get_config", params("name", "bdev")).toString();
        assertThat(saved).contains("\"trsvcid\":\"" + target.port + "\"").contains("\"trsvcid\":\"" + port2 + "\"");
        // the address not in use goes alone; then the last one takes the controller with it
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0", "trsvcid",
                Integer.toString(target.port))).asBoolean()).isTrue();
        assertThat(host.rpc("bdev_nvme_get_controllers", null).get(0).get("ctrlrs").get(0).has("alternate_trids"))
                .isFalse();
        assertThat(host.rpc("bdev_nvme_detach_controller", params("name", "Nvme0")).asBoolean()).isTrue();
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
    }

    @Test
    void activeActiveSpreadsIoOverBothPaths() throws Exception {
        start();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_set_multipath_policy", params("name", "Nvme0n1", "policy",
                "active_passive", "selector", "queue_depth"))).hasMessageContaining("active_active only");
        for (String selector : List.of("round_robin", "queue_depth")) {
            assertThat(host.rpc("bdev_nvme_set_multipath_policy", params("name", "Nvme0n1", "policy",
                    "active_active", "selector", selector)).asBoolean()).isTrue();
            assertThat(host.rpc("bdev_get_bdevs", params("name", "Nvme0n1")).get(0).get("driver_specific")
                    .get("mp_policy").asText()).isEqualTo("active_active");
            List<HostLoad> loads = load(); // the per-path counts live as long as the loads' channels
            await().atMost(Duration.ofSeconds(10)).until(() -> writesThrough(target.port) > 20
                    && writesThrough(port2) > 20);
            for (HostLoad l : loads) {
                assertThat(l.stop().get(10, TimeUnit.SECONDS).failures()).isZero();
            }
        }
        JsonNode saved = host.rpc("framework_get_config", params("name", "bdev"));
        assertThat(saved.toString()).contains("bdev_nvme_set_multipath_policy").contains("\"queue_depth\"");
    }
}
