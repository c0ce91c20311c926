package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Started with --wait-for-rpc, the application is in STARTUP until framework_start_init: a method allowed only
 * at RUNTIME is refused with SPDK's "invalid state" code -1, one allowed at STARTUP runs; after the switch to
 * RUNTIME it is the other way round.
 */
class RpcStateTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private UnixRpcClient client;

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard(); // echo, add, ping: RUNTIME only
        methods.register("framework_set_scheduler_like", Void.class, (p, call) -> call.respond(true), RpcState.STARTUP);
        methods.register("rpc_get_methods_like", Void.class, (p, call) -> call.respond(true), RpcState.STARTUP, RpcState.RUNTIME);
        methods.state(RpcState.STARTUP);
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"));
        client = server.connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void aRuntimeMethodCalledDuringStartupIsAnInvalidStateError() throws Exception {
        JsonNode answer = client.call(request(1, "ping", null));

        assertThat(answer.get("id").asInt()).isEqualTo(1);
        assertThat(answer.has("result")).isFalse();
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(-1);
        assertThat(answer.get("error").get("message").asText()).contains("framework_start_init");
    }

    @Test
    void methodsAllowedAtStartupRunDuringStartup() throws Exception {
        assertThat(client.call(request(2, "framework_set_scheduler_like", null)).get("result").asBoolean()).isTrue();
        assertThat(client.call(request(3, "rpc_get_methods_like", null)).get("result").asBoolean()).isTrue();
    }

    @Test
    void anUnknownMethodIsStillMethodNotFoundDuringStartup() throws Exception {
        assertThat(client.call(request(4, "nope", null)).get("error").get("code").asInt())
                .isEqualTo(RpcException.METHOD_NOT_FOUND);
    }

    @Test
    void afterSwitchingToRuntimeTheRuntimeMethodRunsAndTheStartupOnlyOneIsRefused() throws Exception {
        assertThat(client.call(request(5, "ping", null)).get("error").get("code").asInt()).isEqualTo(-1);

        server.methods.state(RpcState.RUNTIME);

        assertThat(client.call(request(6, "ping", null)).get("result").asText()).isEqualTo("pong");
        assertThat(client.call(request(7, "rpc_get_methods_like", null)).get("result").asBoolean()).isTrue();
        JsonNode refused = client.call(request(8, "framework_set_scheduler_like", null));
        assertThat(refused.get("error").get("code").asInt()).isEqualTo(-1);
        assertThat(refused.get("error").get("message").asText()).contains("before framework initialization");
    }
}
