package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream that is not JSON cannot be resynchronised: the client gets a -32700 parse error, then the server
 * closes that connection cleanly (end of stream, not a reset). Other clients are not affected.
 */
class RpcGarbageTest {
    @TempDir
    Path dir;
    private RpcTestServer server;

    @BeforeEach
    void start() {
        server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void garbageGetsAParseErrorThenEndOfStreamAndOtherClientsAreStillServed() throws Exception {
        try (UnixRpcClient bystander = server.connect(); UnixRpcClient client = server.connect()) {
            assertThat(bystander.call(request(1, "ping", null)).get("result").asText()).isEqualTo("pong");

            client.send("this is not JSON\n");

            JsonNode answer = client.readAnswer();
            assertThat(answer.get("jsonrpc").asText()).isEqualTo("2.0");
            assertThat(answer.get("id").isNull()).isTrue();
            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(client.endOfStream()).as("closed after the error").isTrue();

            assertThat(bystander.call(request(2, "ping", null)).get("result").asText()).isEqualTo("pong");
            try (UnixRpcClient newcomer = server.connect()) {
                assertThat(newcomer.call(request(3, "ping", null)).get("result").asText()).isEqualTo("pong");
            }
        }
    }

    @Test
    void requestsBeforeTheGarbageAreAnsweredFirst() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            client.send(request(1, "ping", null) + "{\"jsonrpc\": \"2.0\", \"method\": ]");

            assertThat(client.readAnswer().get("result").asText()).isEqualTo("pong");
            assertThat(client.readAnswer().get("error").get("code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(client.endOfStream()).isTrue();
        }
    }

    @Test
    void garbageInsideAnOtherwiseValidLookingRequestIsAParseError() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1,}");

            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(client.endOfStream()).isTrue();
        }
    }

    @Test
    void aValidJsonValueThatIsNotAnObjectIsAnInvalidRequestNotAParseError() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call("\"just a string\"");

            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
            assertThat(client.call(request(2, "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void aValueNestedTooDeeplyIsAParseErrorNotACrash() throws Exception {
        try (UnixRpcClient client = server.connect(); UnixRpcClient bystander = server.connect()) {
            JsonNode answer = client.call("[".repeat(100_000));

            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(client.closedByServer()).isTrue(); // it stopped reading after 1000 levels
            assertThat(bystander.call(request(1, "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void theServerForgetsTheClosedConnection() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            client.call("}");
            assertThat(client.endOfStream()).isTrue();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
    }
}
