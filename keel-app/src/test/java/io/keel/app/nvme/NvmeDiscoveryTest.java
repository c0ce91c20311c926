package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.core.rpc.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery in the nvme bdev module against Keel's own target (each in its own application in this JVM), as SPDK's
 * test/nvmf/host/discovery.sh drives it: bdev_nvme_start_discovery attaches what the discovery log lists as
 * controllers D0, D1... (a further port of a subsystem is a further path of its name), follows the log's change
 * notices as subsystems and listeners come and go, shows itself in bdev_nvme_get_discovery_info as SPDK does, is
 * written to the config instead of the controllers it attached, and bdev_nvme_stop_discovery takes all of it away.
 */
class NvmeDiscoveryTest {
    static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";
    static final String CNODE2 = "nqn.2016-06.io.spdk:cnode2";

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
        // as in SPDK's sample: the discovery subsystem listens on cnode1's port too, so the log lists it (subtype 3)
        target.app.rpc("nvmf_subsystem_add_listener", params("nqn", DISCOVERY_NQN, "listen_address",
                NvmeTarget.address(target.port)));
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
    }

    private List<String> bdevNames() {
        List<String> names = new ArrayList<>();
        host.rpc("bdev_get_bdevs", null).forEach(b -> names.add(b.get("name").asText()));
        return names;
    }

    /** Controller name → the trsvcids of its paths. */
    private String controllers() {
        StringBuilder s = new StringBuilder();
        for (JsonNode c : host.rpc("bdev_nvme_get_controllers", null)) {
            s.append(c.get("name").asText()).append(':');
            c.get("ctrlrs").forEach(p -> s.append(p.get("trid").get("trsvcid").asText()).append(','));
            s.append(' ');
        }
        return s.toString().trim();
    }

    private JsonNode trid(int port, String subnqn) {
        return Json.tree(params("trtype", "TCP", "adrfam", "IPv4", "traddr", "127.0.0.1", "trsvcid",
                Integer.toString(port), "subnqn", subnqn));
    }

    @Test
    void discoveryAttachesWhatTheLogListsFollowsItsChangesAndStopTakesItAllAway() throws Exception {
        start();
        int port = target.port;
        assertThat(host.rpc("bdev_nvme_start_discovery", params("name", "D", "trtype", "tcp", "adrfam", "ipv4",
                "traddr", "127.0.0.1", "trsvcid", Integer.toString(port), "wait_for_attach", true)).asBoolean())
                .isTrue();
        // answered once the first round attached cnode1
        assertThat(bdevNames()).containsExactly("D0n1");
        assertThat(controllers()).isEqualTo("D0:" + port + ",");
        JsonNode c = host.rpc("bdev_nvme_get_controllers", params("name", "D0")).get(0).get("ctrlrs").get(0);
        assertThat(c.get("trid")).isEqualTo(trid(port, NvmeTarget.NQN));

        JsonNode info = host.rpc("bdev_nvme_get_discovery_info", null);
        assertThat(info).hasSize(1);
        assertThat(info.get(0).get("name").asText()).isEqualTo("D");
        assertThat(info.get(0).get("trid")).isEqualTo(trid(port, DISCOVERY_NQN));
        assertThat(info.get(0).get("referrals")).hasSize(1);
        assertThat(info.get(0).get("referrals").get(0).get("trid")).isEqualTo(trid(port, DISCOVERY_NQN));

        JsonNode config = host.rpc("framework_get_config", params("name", "bdev"));
        List<String> methods = new ArrayList<>();
        config.forEach(e -> methods.add(e.get("method").asText()));
        assertThat(methods).as("D0 is the discovery's: not written as an attach").contains("bdev_nvme_start_discovery")
                .doesNotContain("bdev_nvme_attach_controller");
        JsonNode saved = null;
        for (JsonNode e : config) {
            if (e.get("method").asText().equals("bdev_nvme_start_discovery")) {
                saved = e.get("params");
            }
        }
        assertThat(saved.get("hostnqn").asText()).startsWith("nqn.2014-08.org.nvmexpress:uuid:");
        assertThat(saved.toString()).isEqualTo("{\"name\":\"D\",\"hostnqn\":\"" + saved.get("hostnqn").asText()
                + "\",\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"" + port
                + "\",\"wait_for_attach\":true,\"ctrlr_loss_timeout_sec\":0,\"reconnect_delay_sec\":0,"
                + "\"fast_io_fail_timeout_sec\":0}");

        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "D", "trtype", "tcp",
                "traddr", "127.0.0.1", "trsvcid", "1")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-17));
        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "E", "trtype", "tcp",
                "traddr", "127.0.0.1", "trsvcid", Integer.toString(port))))
                .as("the same discovery service under another name")
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-17));

        // a new subsystem with a listener: the log's change notice makes controller D1
        target.app.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 512, "num_blocks", 1024));
        target.app.rpc("nvmf_create_subsystem", params("nqn", CNODE2, "allow_any_host", true));
        target.app.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE2, "namespace", params("bdev_name", "Malloc1")));
        target.app.rpc("nvmf_subsystem_add_listener", params("nqn", CNODE2, "listen_address",
                NvmeTarget.address(port)));
        await().atMost(Duration.ofSeconds(10)).until(() -> bdevNames().contains("D1n1"));
        assertThat(controllers()).isEqualTo("D0:" + port + ", D1:" + port + ",");

        // cnode1 on a second port: a second path of D0, no new controller name
        int port2 = NvmeTarget.freePort();
        target.listen(port2);
        await().atMost(Duration.ofSeconds(10)).until(() -> controllers().equals("D0:" + port + "," + port2
                + ", D1:" + port + ","));
        assertThat(bdevNames()).containsExactlyInAnyOrder("D0n1", "D1n1");

        // cnode2 deleted: D1 and its bdev go
        target.app.rpc("nvmf_delete_subsystem", params("nqn", CNODE2));
        await().atMost(Duration.ofSeconds(10)).until(() -> controllers().equals("D0:" + port + "," + port2 + ","));
        assertThat(bdevNames()).containsExactly("D0n1");

        assertThat(host.rpc("bdev_nvme_stop_discovery", params("name", "D")).asBoolean()).isTrue();
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
        assertThat(bdevNames()).isEmpty();
        assertThat(host.rpc("bdev_nvme_get_discovery_info", null)).isEmpty();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_stop_discovery", params("name", "D")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-2));
    }

    @Test
    void aStartThatCannotConnectTimesOutAndLeavesNothingAndUnsupportedParametersAreRefused() throws Exception {
        start();
        int nobody = NvmeTarget.freePort();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "X", "trtype", "tcp",
                "traddr", "127.0.0.1", "trsvcid", Integer.toString(nobody), "attach_timeout_ms", 1500)))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> {
                    assertThat(e.code).isEqualTo(-110);
                    assertThat(e.getMessage()).contains("Connection timed out");
                });
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(1400L, 8000L);
        await().atMost(Duration.ofSeconds(5)).until(() -> host.rpc("bdev_nvme_get_discovery_info", null).isEmpty());
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();

        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "X", "trtype", "fc",
                "traddr", "127.0.0.1"))).hasMessageContaining("not supported");
        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "X", "trtype", "tcp",
                "traddr", "127.0.0.1", "psk", "key0")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-32602));
        assertThat(host.rpc("bdev_nvme_get_discovery_info", null)).isEmpty();
    }
}
