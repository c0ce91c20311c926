package io.keel.nvmf;

import static io.keel.bdev.BdevTestApp.params;
import io.keel.bdev.BdevTestApp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NVMe-oF target's management plane against SPDK's answers. */
class NvmfTargetTest {
    static final String CNODE1 = "nqn.2016-06.io.spdk:cnode1";

    @TempDir
    Path dir;

    /** SPDK v26.05's nvmf_get_transports answer (spdk-rpc-samples/nvmf_get_transports.json). */
    static final String SPDK_TRANSPORTS = """
            [{"trtype":"TCP","max_queue_depth":128,"max_io_qpairs_per_ctrlr":127,"in_capsule_data_size":4096,
              "max_io_size":131072,"max_aq_depth":128,"iobuf_small_cache_size":4294967295,
              "iobuf_large_cache_size":4294967295,"dif_insert_or_strip":false,"zcopy":false,"c2h_success":true,
              "sock_priority":0,"abort_timeout_sec":1,"ack_timeout":0,"data_wr_pool_size":0,
              "disable_command_passthru":false,"kas":100,"min_kato":10000}]""";

    /** SPDK's nvmf_get_subsystems answer (spdk-rpc-samples/nvmf_get_subsystems.json) without its listeners. */
    static final String SPDK_SUBSYSTEMS = """
            [{"nqn":"nqn.2014-08.org.nvmexpress.discovery","subtype":"Discovery","listen_addresses":[],
              "allow_any_host":true,"hosts":[]},
             {"nqn":"nqn.2016-06.io.spdk:cnode1","subtype":"NVMe","listen_addresses":[],"allow_any_host":true,
              "hosts":[],"serial_number":"SPDK00000000000001","model_number":"SPDK_Controller1","max_namespaces":32,
              "passthrough":false,"min_cntlid":1,"max_cntlid":65519,"dmrsl":2097152,"wzsl":12,
              "namespaces":[
                {"nsid":1,"bdev_name":"Null0","name":"Null0","nguid":"A8A21FAEF99F47B5A965C3309B2F3E6E",
                 "uuid":"a8a21fae-f99f-47b5-a965-c3309b2f3e6e"},
                {"nsid":2,"bdev_name":"Malloc0","name":"Malloc0","nguid":"79F4E140E8E14BB78B185A707CE3F9C9",
                 "uuid":"79f4e140-e8e1-4bb7-8b18-5a707ce3f9c9"}]}]""";

    static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The same JSON with number nodes as a parser makes them (int vs long does not matter on the wire). */
    static JsonNode norm(JsonNode n) {
        return json(n.toString());
    }

    static void malloc(BdevTestApp t, String name, String uuid) {
        Map<String, Object> p = params("name", name, "block_size", 512, "num_blocks", 2048);
        if (uuid != null) {
            p.put("uuid", uuid);
        }
        t.rpc("bdev_malloc_create", p);
    }

    static boolean claimed(BdevTestApp t, String bdev) {
        return t.rpc("bdev_get_bdevs", Map.of("name", bdev)).get(0).get("claimed").asBoolean();
    }

    static int code(Runnable r) {
        try {
            r.run();
        } catch (BdevTestApp.RpcError e) {
            return e.code;
        }
        throw new AssertionError("no error");
    }

    /** Builds SPDK's sample state: a TCP transport, cnode1 with namespaces on Null0 and Malloc0. */
    static void sampleState(BdevTestApp t) {
        malloc(t, "Null0", "a8a21fae-f99f-47b5-a965-c3309b2f3e6e");
        malloc(t, "Malloc0", "79f4e140-e8e1-4bb7-8b18-5a707ce3f9c9");
        assertThat(norm(t.rpc("nvmf_create_transport", Map.of("trtype", "TCP"))).asBoolean()).isTrue();
        assertThat(norm(t.rpc("nvmf_create_subsystem", params("nqn", CNODE1, "allow_any_host", true,
                "serial_number", "SPDK00000000000001", "model_number", "SPDK_Controller1"))).asBoolean()).isTrue();
        assertThat(norm(t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", Map.of("bdev_name", "Null0"))))
                .asLong()).isEqualTo(1);
        assertThat(norm(t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", Map.of("bdev_name", "Malloc0"))))
                .asLong()).isEqualTo(2);
    }

    Path mkdir(String name) throws java.io.IOException {
        return java.nio.file.Files.createDirectories(dir.resolve(name));
    }

    @Test
    void answersInSpdkShapes() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            // the discovery subsystem exists from init, nothing else
            assertThat(norm(t.rpc("nvmf_get_subsystems", null)))
                    .isEqualTo(Json.MAPPER.createArrayNode().add(json(SPDK_SUBSYSTEMS).get(0)));
            assertThat(norm(t.rpc("nvmf_get_transports", null))).isEmpty();
            sampleState(t);
            assertThat(norm(t.rpc("nvmf_get_transports", null))).isEqualTo(json(SPDK_TRANSPORTS));
            assertThat(norm(t.rpc("nvmf_get_transports", Map.of("trtype", "tcp")))).isEqualTo(json(SPDK_TRANSPORTS));
            assertThat(norm(t.rpc("nvmf_get_subsystems", null))).isEqualTo(json(SPDK_SUBSYSTEMS));
            assertThat(norm(t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1))))
                    .isEqualTo(Json.MAPPER.createArrayNode().add(json(SPDK_SUBSYSTEMS).get(1)));
            // SPDK's own defaults, with Keel's model number
            t.rpc("nvmf_create_subsystem", Map.of("nqn", "nqn.2016-06.io.spdk:cnode2"));
            JsonNode c2 = t.rpc("nvmf_get_subsystems", Map.of("nqn", "nqn.2016-06.io.spdk:cnode2")).get(0);
            assertThat(c2.get("serial_number").asText()).isEqualTo("00000000000000000000");
            assertThat(c2.get("model_number").asText()).isEqualTo("Keel bdev Controller");
            assertThat(c2.get("allow_any_host").asBoolean()).isFalse();
            assertThat(c2.get("max_namespaces").asLong()).isEqualTo(32);
            // listeners as SPDK shows them (spdk-rpc-samples/nvmf_subsystem_get_listeners.json), on a free port
            String port;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                port = Integer.toString(free.getLocalPort());
            }
            Map<String, Object> address = params("trtype", "TCP", "adrfam", "IPv4", "traddr", "127.0.0.1",
                    "trsvcid", port);
            t.rpc("nvmf_subsystem_add_listener", params("nqn", "nqn.2014-08.org.nvmexpress.discovery",
                    "listen_address", address));
            t.rpc("nvmf_subsystem_add_listener", params("nqn", CNODE1, "listen_address", address));
            String sample = "[{\"address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\","
                    + "\"trsvcid\":\"" + port + "\"}}]";
            assertThat(norm(t.rpc("nvmf_subsystem_get_listeners", Map.of("nqn", CNODE1)))).isEqualTo(json(sample));
            assertThat(t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1)).get(0).get("listen_addresses"))
                    .isEqualTo(Json.MAPPER.createArrayNode().add(json(sample).get(0).get("address")));
            assertThatThrownBy(() -> t.rpc("nvmf_subsystem_add_listener", params("nqn", CNODE1, "listen_address",
                    address))).isInstanceOf(BdevTestApp.RpcError.class);
            t.rpc("nvmf_subsystem_remove_listener", params("nqn", CNODE1, "listen_address", address));
            assertThat(t.rpc("nvmf_subsystem_get_listeners", Map.of("nqn", CNODE1))).isEmpty();
            assertThat(t.rpc("nvmf_subsystem_get_controllers", Map.of("nqn", CNODE1))).isEmpty();
            assertThat(t.rpc("nvmf_get_stats", null).get("poll_groups")).hasSize(2);
        }
    }

    @Test
    void namespacesClaimTheirBdevsAndLetGo() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            sampleState(t);
            assertThat(claimed(t, "Null0")).isTrue();
            assertThat(claimed(t, "Malloc0")).isTrue();
            // a claimed bdev cannot be a second namespace
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns",
                    params("nqn", CNODE1, "namespace", Map.of("bdev_name", "Null0"))))).isEqualTo(-32602);
            // removal releases the claim
            assertThat(norm(t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 1))).asBoolean()).isTrue();
            assertThat(claimed(t, "Null0")).isFalse();
            assertThat(code(() -> t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 1))))
                    .isEqualTo(-32602);
            // a bdev deleted under a namespace takes the namespace with it
            assertThat(norm(t.rpc("bdev_malloc_delete", Map.of("name", "Malloc0"))).asBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1)).get(0).get("namespaces").isEmpty());
            // deleting the subsystem releases its namespaces
            t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", Map.of("bdev_name", "Null0")));
            assertThat(claimed(t, "Null0")).isTrue();
            assertThat(norm(t.rpc("nvmf_delete_subsystem", Map.of("nqn", CNODE1))).asBoolean()).isTrue();
            assertThat(claimed(t, "Null0")).isFalse();
            assertThat(norm(t.rpc("nvmf_get_subsystems", null))).hasSize(1);
            assertThat(code(() -> t.rpc("nvmf_delete_subsystem", Map.of("nqn", CNODE1)))).isEqualTo(-32602);
        }
    }

    @Test
    void deletingTwiceAtOnceIsDefined() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("nvmf_create_subsystem", Map.of("nqn", CNODE1));
            CompletableFuture<JsonNode> first = new CompletableFuture<>();
            CompletableFuture<JsonNode> second = new CompletableFuture<>();
            ObjectNode req = (ObjectNode) json("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nvmf_delete_subsystem\","
                    + "\"params\":{\"nqn\":\"" + CNODE1 + "\"}}");
            t.app.onAppThread(() -> {
                t.app.methods().dispatch(req, first::complete);
                t.app.methods().dispatch(req, second::complete);
            });
            assertThat(first.get(10, TimeUnit.SECONDS).get("result").asBoolean()).isTrue();
            JsonNode err = second.get(10, TimeUnit.SECONDS).get("error");
            assertThat(err.get("code").asInt()).isEqualTo(-32603);
            assertThat(err.get("message").asText()).isEqualTo("Subsystem is already being destroyed.");
        }
    }

    @Test
    void hostAllowList() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            String host = "nqn.2014-08.org.nvmexpress:uuid:2b7ab5a4-1b4c-4f36-9c33-8d4c2e6b6b11";
            t.rpc("nvmf_create_subsystem", Map.of("nqn", CNODE1));
            Target target = Target.of(t.app);
            NvmfSubsystem s = BdevTestApp.on(t.app.appThread(), () -> target.subsystem(CNODE1));
            assertThat(BdevTestApp.on(t.app.appThread(), () -> s.hostAllowed(host))).isFalse();
            assertThat(norm(t.rpc("nvmf_subsystem_add_host", params("nqn", CNODE1, "host", host))).asBoolean()).isTrue();
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_host", params("nqn", CNODE1, "host", host))))
                    .isEqualTo(-32603);
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_host", params("nqn", CNODE1, "host", "not-an-nqn"))))
                    .isEqualTo(-32603);
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_host", params("nqn", CNODE1, "host", host,
                    "dhchap_key", "key0")))).isEqualTo(-32602);
            assertThat(norm(t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1))).get(0).get("hosts"))
                    .isEqualTo(json("[{\"nqn\":\"" + host + "\"}]"));
            assertThat(BdevTestApp.on(t.app.appThread(), () -> s.hostAllowed(host))).isTrue();
            assertThat(BdevTestApp.on(t.app.appThread(), () -> s.hostAllowed("nqn.2014-08.org.x:other"))).isFalse();
            t.rpc("nvmf_subsystem_allow_any_host", params("nqn", CNODE1, "allow_any_host", true));
            assertThat(norm(t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1))).get(0).get("allow_any_host").asBoolean())
                    .isTrue();
            assertThat(BdevTestApp.on(t.app.appThread(), () -> s.hostAllowed("nqn.2014-08.org.x:other"))).isTrue();
            assertThat(norm(t.rpc("nvmf_subsystem_remove_host", params("nqn", CNODE1, "host", host))).asBoolean()).isTrue();
            assertThat(code(() -> t.rpc("nvmf_subsystem_remove_host", params("nqn", CNODE1, "host", host))))
                    .isEqualTo(-32603);
            assertThat(norm(t.rpc("nvmf_get_subsystems", Map.of("nqn", CNODE1))).get(0).get("hosts")).isEmpty();
            assertThat(code(() -> t.rpc("nvmf_subsystem_allow_any_host",
                    params("nqn", "nqn.2016-06.io.spdk:nope", "allow_any_host", true)))).isEqualTo(-32602);
        }
    }

    @Test
    void nsidAllocationAndMaxNamespaces() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            for (String b : List.of("M0", "M1", "M2", "M3")) {
                malloc(t, b, null);
            }
            t.rpc("nvmf_create_subsystem", params("nqn", CNODE1, "max_namespaces", 2));
            assertThat(norm(t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M0", "nsid", 2)))).asLong()).isEqualTo(2);
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M1", "nsid", 2))))).isEqualTo(-32602); // taken
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M1", "nsid", 3))))).isEqualTo(-32602); // > max_namespaces
            assertThat(claimed(t, "M1")).isFalse(); // a refused namespace leaves its bdev alone
            assertThat(norm(t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M1")))).asLong()).isEqualTo(1); // lowest free
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M2"))))).isEqualTo(-32602); // full
            assertThat(claimed(t, "M2")).isFalse();
            t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 1));
            assertThat(norm(t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "M2")))).asLong()).isEqualTo(1);
            // explicit identifiers are kept; nguid/eui64 must be hex of the right length
            t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:cnode2"));
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", "nqn.2016-06.io.spdk:cnode2",
                    "namespace", Map.of("bdev_name", "M3", "nguid", "ABC"))))).isEqualTo(-32602);
            t.rpc("nvmf_subsystem_add_ns", params("nqn", "nqn.2016-06.io.spdk:cnode2", "namespace",
                    Map.of("bdev_name", "M3", "nguid", "00112233445566778899AABBCCDDEEFF", "eui64", "0011223344556677",
                            "uuid", "ceccf520-691e-4b46-9546-34af789907c5")));
            JsonNode ns = t.rpc("nvmf_get_subsystems", Map.of("nqn", "nqn.2016-06.io.spdk:cnode2")).get(0)
                    .get("namespaces").get(0);
            assertThat(ns.get("nguid").asText()).isEqualTo("00112233445566778899AABBCCDDEEFF");
            assertThat(ns.get("eui64").asText()).isEqualTo("0011223344556677");
            assertThat(ns.get("uuid").asText()).isEqualTo("ceccf520-691e-4b46-9546-34af789907c5");
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1,
                    "namespace", Map.of("bdev_name", "nope"))))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_subsystem_add_ns", params("nqn", "nqn.2016-06.io.spdk:none",
                    "namespace", Map.of("bdev_name", "M3"))))).isEqualTo(-32602);
        }
    }

    @Test
    void refusesWhatSpdkRefuses() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            // NQNs
            for (String bad : List.of("nqn.2016-06.io.spdk", "nqn.16-06.io.spdk:x", "iqn.2016-06.io.spdk:x",
                    "nqn.2016-06.1io.spdk:x", "nqn.2016-06.io-.spdk:x", "nqn.2016-06.io.spdk:",
                    "nqn.2014-08.org.nvmexpress:uuid:not-a-uuid", "nqn.2014-08.org.nvmexpress.discovery",
                    "nqn.2016-06.io.spdk:" + "x".repeat(204))) {
                assertThat(code(() -> t.rpc("nvmf_create_subsystem", Map.of("nqn", bad)))).as(bad).isEqualTo(-32603);
            }
            t.rpc("nvmf_create_subsystem", Map.of("nqn", "nqn.2016-06.io.spdk:" + "x".repeat(203))); // 223 bytes
            t.rpc("nvmf_create_subsystem", Map.of("nqn", "nqn.2014-08.org.nvmexpress:uuid:ceccf520-691e-4b46-9546-34af789907c5"));
            t.rpc("nvmf_create_subsystem", Map.of("nqn", CNODE1));
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", Map.of("nqn", CNODE1)))).isEqualTo(-32603);
            // subsystem options
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "serial_number", "123456789012345678901")))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "model_number", "m".repeat(41))))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "min_cntlid", 10, "max_cntlid", 5)))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "max_cntlid", 65520)))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "min_cntlid", 0)))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:a",
                    "bogus", 1)))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", Map.of()))).isEqualTo(-32602);
            t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:ana", "ana_reporting", true));
            // unknown subsystem, wrong target
            assertThat(code(() -> t.rpc("nvmf_get_subsystems", Map.of("nqn", "nqn.2016-06.io.spdk:none"))))
                    .isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_get_subsystems", Map.of("tgt_name", "other")))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_delete_subsystem", Map.of("nqn", Nqn.DISCOVERY)))).isEqualTo(-32602);
            // transports
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "FC")))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "RDMA", "max_io_size", 4194304))))
                    .as("RDMA's own limit: 16 data buffers of 128 KiB").isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "RDMA", "max_srq_depth", 0))))
                    .isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "max_io_size", 10000))))
                    .isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "max_queue_depth", 70000))))
                    .isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "in_capsule_data_size",
                    262144)))).isEqualTo(-32602);
            assertThat(code(() -> t.rpc("nvmf_get_transports", Map.of("trtype", "TCP")))).isEqualTo(-19);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "sock_priority", 3))))
                    .isEqualTo(-32602); // Keel cannot set SO_PRIORITY: refused, not ignored
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "keel_queue_memory_mb", 0))))
                    .isEqualTo(-32602);
            t.rpc("nvmf_create_transport", Map.of("trtype", "TCP", "max_queue_depth", 64, "c2h_success", false,
                    "keel_queue_memory_mb", 64));
            assertThat(norm(t.rpc("nvmf_get_transports", null)).get(0).get("max_queue_depth").asInt()).isEqualTo(64);
            assertThat(t.rpc("nvmf_get_transports", null).get(0).get("keel_queue_memory_mb").asInt())
                    .as("Keel's own option, shown (and saved) when not the default").isEqualTo(64);
            assertThat(code(() -> t.rpc("nvmf_create_transport", Map.of("trtype", "TCP")))).isEqualTo(-32602);
            // startup-only methods
            assertThat(code(() -> t.rpc("nvmf_set_max_subsystems", Map.of("max_subsystems", 10)))).isEqualTo(-1);
            assertThat(code(() -> t.rpc("nvmf_set_config", Map.of("discovery_filter", "match_any")))).isEqualTo(-1);
        }
    }

    @Test
    void maxSubsystemsCountsTheDiscoverySubsystem() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir, Map.of("nvmf_set_max_subsystems", Map.of("max_subsystems", 2)))) {
            t.rpc("nvmf_create_subsystem", Map.of("nqn", CNODE1));
            assertThat(code(() -> t.rpc("nvmf_create_subsystem", Map.of("nqn", "nqn.2016-06.io.spdk:cnode2"))))
                    .isEqualTo(-32603);
        }
    }

    @Test
    void startupSettingsAreValidated() throws Exception {
        assertThatThrownBy(() -> BdevTestApp.start(mkdir("a"),
                Map.of("nvmf_set_config", Map.of("discovery_filter", "nonsense")))).hasMessageContaining("-32602");
        assertThatThrownBy(() -> BdevTestApp.start(mkdir("b"),
                Map.of("nvmf_set_config", Map.of("dhchap_digests", List.of("md5"))))).hasMessageContaining("-32602");
        assertThatThrownBy(() -> BdevTestApp.start(mkdir("c"),
                Map.of("nvmf_set_max_subsystems", Map.of("max_subsystems", 0)))).hasMessageContaining("-32602");
    }

    @Test
    void savedConfigRestoresTheSameTarget() throws Exception {
        Map<String, Object> startup = new LinkedHashMap<>();
        startup.put("nvmf_set_max_subsystems", Map.of("max_subsystems", 64));
        startup.put("nvmf_set_config", Map.of("discovery_filter", "transport,address",
                "dhchap_digests", List.of("sha384", "sha256")));
        JsonNode bdevConfig;
        JsonNode nvmfConfig;
        try (BdevTestApp t = BdevTestApp.start(mkdir("a"), startup)) {
            sampleState(t);
            malloc(t, "M9", null);
            t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:cnode2", "max_namespaces", 4,
                    "min_cntlid", 5, "max_cntlid", 100, "ana_reporting", true, "wzsl", 10));
            t.rpc("nvmf_subsystem_add_host", params("nqn", "nqn.2016-06.io.spdk:cnode2",
                    "host", "nqn.2014-08.org.nvmexpress:uuid:2b7ab5a4-1b4c-4f36-9c33-8d4c2e6b6b11"));
            t.rpc("nvmf_subsystem_add_ns", params("nqn", "nqn.2016-06.io.spdk:cnode2", "namespace",
                    Map.of("bdev_name", "M9", "nsid", 3, "eui64", "0011223344556677", "no_auto_visible", true)));
            bdevConfig = t.rpc("framework_get_config", Map.of("name", "bdev"));
            nvmfConfig = t.rpc("framework_get_config", Map.of("name", "nvmf"));
        }
        List<String> methods = new java.util.ArrayList<>();
        nvmfConfig.forEach(e -> methods.add(e.get("method").asText()));
        assertThat(methods).containsExactly("nvmf_set_config", "nvmf_set_max_subsystems", "nvmf_create_transport",
                "nvmf_create_subsystem", "nvmf_subsystem_add_ns", "nvmf_subsystem_add_ns",
                "nvmf_create_subsystem", "nvmf_subsystem_add_host", "nvmf_subsystem_add_ns");
        // SPDK's saved shapes (framework_get_config_nvmf.json), the discovery filter and digests aside
        assertThat(norm(nvmfConfig.get(0).get("params"))).isEqualTo(json("""
                {"discovery_filter":"transport,address","admin_cmd_passthru":{"identify_ctrlr":false,
                 "identify_uuid_list":false,"get_log_page":false,"get_set_features":false,"sanitize":false,
                 "security_send_recv":false,"fw_update":false,"nvme_mi":false,"vendor_specific":false},
                 "dhchap_digests":["sha256","sha384"],
                 "dhchap_dhgroups":["null","ffdhe2048","ffdhe3072","ffdhe4096","ffdhe6144","ffdhe8192"],
                 "dup_host_policy":"allow"}"""));
        assertThat(norm(nvmfConfig.get(2).get("params"))).isEqualTo(json(SPDK_TRANSPORTS).get(0));
        assertThat(norm(nvmfConfig.get(3).get("params"))).isEqualTo(json("""
                {"nqn":"nqn.2016-06.io.spdk:cnode1","allow_any_host":true,"serial_number":"SPDK00000000000001",
                 "model_number":"SPDK_Controller1","max_namespaces":32,"min_cntlid":1,"max_cntlid":65519,
                 "ana_reporting":false,"dmrsl":2097152,"wzsl":12,"passthrough":false,"enable_nssr":false}"""));
        assertThat(norm(nvmfConfig.get(5).get("params"))).isEqualTo(json("""
                {"nqn":"nqn.2016-06.io.spdk:cnode1","namespace":{"nsid":2,"bdev_name":"Malloc0",
                 "nguid":"79F4E140E8E14BB78B185A707CE3F9C9","uuid":"79f4e140-e8e1-4bb7-8b18-5a707ce3f9c9",
                 "no_auto_visible":false}}"""));

        // replay into a fresh application: startup methods before init, the rest after
        Map<String, Object> replayStartup = new LinkedHashMap<>();
        List<JsonNode> runtime = new java.util.ArrayList<>();
        for (JsonNode cfg : List.of(bdevConfig, nvmfConfig)) {
            for (JsonNode e : cfg) {
                String m = e.get("method").asText();
                if (List.of("bdev_set_options", "nvmf_set_config", "nvmf_set_max_subsystems").contains(m)) {
                    replayStartup.put(m, e.get("params"));
                } else {
                    runtime.add(e);
                }
            }
        }
        try (BdevTestApp t = BdevTestApp.start(mkdir("b"), replayStartup)) {
            for (JsonNode e : runtime) {
                t.rpc(e.get("method").asText(), e.get("params"));
            }
            assertThat(norm(t.rpc("framework_get_config", Map.of("name", "nvmf")))).isEqualTo(norm(nvmfConfig));
            assertThat(claimed(t, "M9")).isTrue();
        }
    }

    @Test
    void shutdownReleasesNamespaces() throws Exception {
        BdevTestApp t = BdevTestApp.start(dir);
        sampleState(t);
        long start = System.nanoTime();
        t.close(); // nvmf finishes before bdev: the bdevs are no longer claimed, so bdev fini does not wait
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
}
