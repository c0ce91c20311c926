package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch (a JSON array of requests) is answered with one array holding each answer at its request's place,
 * whatever order the calls complete in; an empty batch is an invalid request.
 */
class RpcBatchTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private final List<String> completing = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard();
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"));
        KeelThread worker = server.runtime.createThread("worker", CpuMask.of(0));
        TestMethods.registerLater(methods, worker, completing::add);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aBatchGetsAnArrayOfAnswersInRequestOrderEvenWhenTheyCompleteOutOfOrder() throws Exception {
        String batch = "[" + request(1, "later", "{\"value\":\"slow\",\"delay_ms\":200}") + ","
                + request(2, "later", "{\"value\":\"fast\",\"delay_ms\":0}") + ","
                + request(3, "add", "{\"first_term\":1,\"second_term\":2}") + ","
                + request(4, "no_such_method", null) + "]";
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call(batch);

            assertThat(completing).containsExactly("fast", "slow");
            assertThat(answer.isArray()).isTrue();
            assertThat(answer).hasSize(4);
            assertThat(answer.get(0).get("id").asInt()).isEqualTo(1);
            assertThat(answer.get(0).get("result").asText()).isEqualTo("slow");
            assertThat(answer.get(1).get("id").asInt()).isEqualTo(2);
            assertThat(answer.get(1).get("result").asText()).isEqualTo("fast");
            assertThat(answer.get(2).get("result").asInt()).isEqualTo(3);
            assertThat(answer.get(3).get("error").get("code").asInt()).isEqualTo(RpcException.METHOD_NOT_FOUND);
        }
    }

    @Test
    void anEmptyBatchIsAnInvalidRequestAndTheConnectionGoesOn() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call("[]");

            assertThat(answer.isObject()).isTrue();
            assertThat(answer.get("id").isNull()).isTrue();
            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
            assertThat(client.call(request(5, "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void aBatchElementThatIsNotARequestGetsItsOwnErrorAndTheOthersAreServed() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call("[1," + request(2, "ping", null) + ",{\"jsonrpc\":\"2.0\",\"id\":3}]");

            assertThat(answer).hasSize(3);
            assertThat(answer.get(0).get("id").isNull()).isTrue();
            assertThat(answer.get(0).get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
            assertThat(answer.get(1).get("result").asText()).isEqualTo("pong");
            assertThat(answer.get(2).get("id").asInt()).isEqualTo(3);
            assertThat(answer.get(2).get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
        }
    }

    @Test
    void aBatchAndASingleRequestBackToBackGetTwoAnswers() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            client.send("[" + request(1, "ping", null) + "]" + request(2, "ping", null));

            JsonNode batchAnswer = client.readAnswer();
            JsonNode single = client.readAnswer();

            assertThat(batchAnswer.isArray()).isTrue();
            assertThat(batchAnswer.get(0).get("id").asInt()).isEqualTo(1);
            assertThat(single.isObject()).isTrue();
            assertThat(single.get("id").asInt()).isEqualTo(2);
        }
    }
}
