package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that hangs up while its call is still being worked on: the answer, when it comes, has nobody to go
 * to and is dropped; the server neither fails nor keeps the dead connection, and serves everyone else.
 */
class RpcClientGoneTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private final List<String> completing = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard();
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"), RpcServer.DEFAULT_MAX_REQUEST_BYTES, CpuMask.of(0, 1));
        KeelThread worker = server.runtime.createThread("worker", CpuMask.of(1));
        TestMethods.registerLater(methods, worker, completing::add);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aClientThatDisconnectsBeforeItsSlowAnswerDoesNotBreakTheServer() throws Exception {
        try (UnixRpcClient bystander = server.connect()) {
            try (UnixRpcClient leaver = server.connect()) {
                leaver.send(request(1, "later", "{\"value\":\"orphan\",\"delay_ms\":200}"));
                await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 2);
            } // gone before the answer

            await().atMost(Duration.ofSeconds(5)).until(() -> completing.contains("orphan"));

            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);
            assertThat(bystander.call(request(2, "later", "{\"value\":\"still here\",\"delay_ms\":0}")).get("result").asText())
                    .isEqualTo("still here");
            try (UnixRpcClient newcomer = server.connect()) {
                assertThat(newcomer.call(request(3, "ping", null)).get("result").asText()).isEqualTo("pong");
            }
        }
    }

    @Test
    void manyClientsLeavingWithCallsInFlightLeaveNoConnectionBehind() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (UnixRpcClient leaver = server.connect()) {
                leaver.send(request(i, "later", "{\"value\":\"v" + i + "\",\"delay_ms\":" + (i % 4) * 20 + "}")
                        + request(100 + i, "ping", null));
            }
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> completing.size() == 20);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
        try (UnixRpcClient newcomer = server.connect()) {
            assertThat(newcomer.call(request(1, "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void aClientThatLeavesHalfWayThroughARequestIsForgotten() throws Exception {
        try (UnixRpcClient leaver = server.connect()) {
            leaver.send("{\"jsonrpc\":\"2.0\",\"method\":\"pi");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
    }
}
