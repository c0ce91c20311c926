package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Handlers never block the server's thread: they start work elsewhere and complete their RpcCall later, from
 * whichever thread finishes it — a lightweight thread on another reactor, one on the same reactor, or a plain
 * Java thread — with a result or an error.
 */
class RpcAsyncHandlerTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private UnixRpcClient client;

    /** Where complete_on completes its call: "other_core", "same_core" or "plain_thread". */
    record WhereParams(String where) {
    }

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard();
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"), RpcServer.DEFAULT_MAX_REQUEST_BYTES, CpuMask.of(0, 1));
        KeelThread otherCore = server.runtime.createThread("bdev_worker", CpuMask.of(1));
        KeelThread sameCore = server.runtime.createThread("neighbour", CpuMask.of(0));
        methods.register("complete_on", WhereParams.class, (p, call) -> {
            Runnable answer = () -> {
                KeelThread t = KeelThread.current();
                call.respond(Map.of("completed_on", t == null ? "plain" : t.name()));
            };
            switch (p.where()) {
                case "other_core" -> otherCore.send(answer);
                case "same_core" -> sameCore.send(answer);
                case "plain_thread" -> Thread.ofVirtual().start(answer);
                default -> throw RpcException.invalidParams("where?");
            }
        });
        TestMethods.registerLater(methods, otherCore, v -> { });
        methods.register("fails_later", Void.class, (p, call) ->
                otherCore.send(() -> call.fail(RpcException.errno(Errno.ETIMEDOUT, "Connection timed out"))));
        client = server.connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void aCallCompletedByALightweightThreadOnAnotherReactorIsAnswered() throws Exception {
        JsonNode answer = client.call(request(1, "complete_on", "{\"where\":\"other_core\"}"));

        assertThat(answer.get("id").asInt()).isEqualTo(1);
        assertThat(answer.get("result").get("completed_on").asText()).isEqualTo("bdev_worker");
    }

    @Test
    void aCallCompletedByAnotherLightweightThreadOnTheSameReactorIsAnswered() throws Exception {
        JsonNode answer = client.call(request(2, "complete_on", "{\"where\":\"same_core\"}"));

        assertThat(answer.get("id").asInt()).isEqualTo(2);
        assertThat(answer.get("result").get("completed_on").asText()).isEqualTo("neighbour");
    }

    @Test
    void aCallCompletedByAPlainJavaThreadIsAnswered() throws Exception {
        JsonNode answer = client.call(request(3, "complete_on", "{\"where\":\"plain_thread\"}"));

        assertThat(answer.get("id").asInt()).isEqualTo(3);
        assertThat(answer.get("result").get("completed_on").asText()).isEqualTo("plain");
    }

    @Test
    void answersGoOutAsTheyCompleteAndTheirIdsTellThemApart() throws Exception {
        client.send(request("slow", "later", "{\"value\":\"s\",\"delay_ms\":150}")
                + request("fast", "later", "{\"value\":\"f\",\"delay_ms\":0}"));

        JsonNode first = client.readAnswer();
        JsonNode second = client.readAnswer();

        assertThat(first.get("id").asText()).isEqualTo("fast");
        assertThat(first.get("result").asText()).isEqualTo("f");
        assertThat(second.get("id").asText()).isEqualTo("slow");
        assertThat(second.get("result").asText()).isEqualTo("s");
    }

    @Test
    void anErrorReportedLaterIsAnsweredWithItsErrnoCode() throws Exception {
        JsonNode answer = client.call(request(4, "fails_later", null));

        assertThat(answer.get("id").asInt()).isEqualTo(4);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(-110);
        assertThat(answer.get("error").get("message").asText()).isEqualTo("Connection timed out");
    }
}
