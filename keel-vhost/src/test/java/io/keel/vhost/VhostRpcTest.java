package io.keel.vhost;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.core.rpc.Json;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vhost methods as SPDK answers them (names, parameters, errors, the shape of vhost_get_controllers and of the
 * saved config), and a controller's socket: one front end at a time, taken again after a hang-up, and a delete that
 * ends a live session.
 */
class VhostRpcTest {
    @TempDir
    Path dir;
    BdevTestApp t;

    @BeforeEach
    void start() {
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 512, "num_blocks", 2048));
    }

    @AfterEach
    void stop() throws Exception {
        t.close();
    }

    private boolean create(String ctrlr, Object... more) {
        Map<String, Object> p = params("ctrlr", ctrlr, "dev_name", "Malloc0");
        for (int i = 0; i < more.length; i += 2) {
            p.put((String) more[i], more[i + 1]);
        }
        return t.rpc("vhost_create_blk_controller", p).asBoolean();
    }

    private void assertError(Runnable call, int code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> {
            assertThat(e.code).isEqualTo(code);
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void controllersAreCreatedDescribedSavedAndDeletedAsSpdkDoes() throws Exception {
        assertThat(create("vhost.0", "cpumask", "1")).isTrue();
        JsonNode expected = Json.MAPPER.readTree("""
                [{"ctrlr": "vhost.0", "cpumask": "0x1", "delay_base_us": 0, "iops_threshold": 60000,
                  "socket": "%s", "sessions": [],
                  "backend_specific": {"block": {"readonly": false, "bdev": "Malloc0",
                                                 "transport": "vhost_user_blk"}}}]
                """.formatted(dir.resolve("vhost.0")));
        assertThat(t.rpc("vhost_get_controllers", null)).isEqualTo(expected);
        assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.0"))).isEqualTo(expected);
        assertThat(Files.exists(dir.resolve("vhost.0"))).isTrue();

        assertThat(t.rpc("vhost_controller_set_coalescing", params("ctrlr", "vhost.0", "delay_base_us", 50,
                "iops_threshold", 1000)).asBoolean()).isTrue();
        JsonNode saved = t.rpc("framework_get_config", Map.of("name", "vhost_blk"));
        assertThat(saved).isEqualTo(Json.MAPPER.readTree("""
                [{"method": "vhost_create_blk_controller", "params": {"ctrlr": "vhost.0", "dev_name": "Malloc0",
                   "cpumask": "1", "readonly": false, "transport": "vhost_user_blk"}},
                 {"method": "vhost_controller_set_coalescing", "params": {"ctrlr": "vhost.0", "delay_base_us": 50,
                   "iops_threshold": 1000}}]
                """));

        assertThat(t.rpc("vhost_delete_controller", Map.of("ctrlr", "vhost.0")).asBoolean()).isTrue();
        assertThat(t.rpc("vhost_get_controllers", null)).isEmpty();
        assertThat(Files.exists(dir.resolve("vhost.0"))).isFalse();
        // the bdev is free again: it can be deleted
        assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
    }

    @Test
    void errorsAreSpdksCodesAndTexts() {
        assertThat(create("vhost.0", "readonly", true)).isTrue();
        int invalid = -32602;
        assertError(() -> create("vhost.0"), invalid, "File exists");
        assertError(() -> t.rpc("vhost_create_blk_controller", params("ctrlr", "vhost.1", "dev_name", "Nope0")),
                invalid, "No such device");
        assertError(() -> create("vhost.1", "cpumask", "0x4"), invalid, "Invalid argument");
        assertError(() -> create("vhost.1", "packed_ring", true), invalid, "packed");
        assertError(() -> t.rpc("vhost_delete_controller", Map.of("ctrlr", "vhost.9")), invalid, "No such device");
        assertError(() -> t.rpc("vhost_get_controllers", Map.of("name", "vhost.9")), invalid, "No such device");
        assertError(() -> t.rpc("vhost_controller_set_coalescing", params("ctrlr", "vhost.9", "delay_base_us", 0,
                "iops_threshold", 1)), invalid, "No such device");
        assertError(() -> t.rpc("vhost_controller_set_coalescing", params("ctrlr", "vhost.0", "delay_base_us", 0,
                "iops_threshold", 0)), invalid, "Invalid argument");
        // failed creates left nothing behind
        assertThat(t.rpc("vhost_get_controllers", null)).hasSize(1);
        assertThat(t.rpc("vhost_get_controllers", null).get(0).at("/backend_specific/block/readonly").asBoolean())
                .isTrue();
        assertThat(Files.exists(dir.resolve("vhost.1"))).isFalse();
    }

    private static long features(FakeFrontEnd qemu) {
        qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0);
        return qemu.awaitReply().u64();
    }

    @Test
    void oneFrontEndAtATimeAndAnotherAfterItHangsUp() {
        assertThat(create("vhost.0")).isTrue();
        String socket = dir.resolve("vhost.0").toString();
        try (FakeFrontEnd first = new FakeFrontEnd(socket)) {
            assertThat(features(first)).isNotZero();
            first.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
            JsonNode session = t.rpc("vhost_get_controllers", null).get(0).get("sessions").get(0);
            assertThat(session.get("name").asText()).isEqualTo("vhost.0s0");
            assertThat(session.get("started").asBoolean()).isFalse();
            try (FakeFrontEnd second = new FakeFrontEnd(socket)) {
                assertThat(second.closedByBackEnd()).isTrue();
            }
            assertThat(features(first)).isNotZero();
            first.hangUp();
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                t.rpc("vhost_get_controllers", null).get(0).get("sessions").isEmpty());
        try (FakeFrontEnd third = new FakeFrontEnd(socket)) {
            assertThat(features(third)).isNotZero();
        }
    }

    @Test
    void deletingAControllerWhoseSessionRunsNoQueueEndsTheSession() {
        assertThat(create("vhost.0")).isTrue();
        try (FakeFrontEnd qemu = new FakeFrontEnd(dir.resolve("vhost.0").toString())) {
            assertThat(features(qemu)).isNotZero();
            qemu.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
            var first = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.0"));
            var second = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.0"));
            assertThat(first.join().asBoolean()).isTrue();
            // the second hears with the first while that runs; if the test thread was descheduled between the two
            // calls for longer than the teardown took, the controller is gone and the answer is SPDK's -ENODEV
            assertThat(second.handle((ok, e) -> ok != null ? ok.asBoolean()
                    : e.getCause() instanceof BdevTestApp.RpcError r && r.getMessage().contains("No such device"))
                    .join()).isTrue();
            assertThat(qemu.closedByBackEnd()).isTrue();
        }
        assertThat(t.rpc("vhost_get_controllers", null)).isEmpty();
        assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
    }
}
