package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A well-formed JSON value that is not a valid JSON-RPC 2.0 request gets -32600, an unknown method -32601;
 * either way the error carries the request's id (when it has a usable one) and the connection stays open.
 */
class RpcRequestValidationTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private UnixRpcClient client;

    @BeforeEach
    void start() {
        server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"));
        client = server.connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private JsonNode errorFor(String requestJson) throws Exception {
        JsonNode answer = client.call(requestJson);
        for (JsonNode one : answer.isArray() ? answer : java.util.List.of(answer)) {
            assertThat(one.get("jsonrpc").asText()).isEqualTo("2.0");
            assertThat(one.has("result")).as("no result beside an error: " + one).isFalse();
        }
        // the connection survives every request-level error
        assertThat(client.call(request("after", "ping", null)).get("result").asText()).isEqualTo("pong");
        return answer;
    }

    @Test
    void anUnknownMethodIsMethodNotFoundWithTheRequestId() throws Exception {
        JsonNode answer = errorFor(request(11, "bdev_no_such_thing", null));

        assertThat(answer.get("id").asInt()).isEqualTo(11);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.METHOD_NOT_FOUND);
        assertThat(answer.get("error").get("message").asText()).contains("Method not found");
    }

    @Test
    void aRequestWithoutJsonrpcIsInvalid() throws Exception {
        JsonNode answer = errorFor("{\"method\":\"ping\",\"id\":12}");

        assertThat(answer.get("id").asInt()).isEqualTo(12);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"1.0\"", "2.0", "2", "null", "[\"2.0\"]"})
    void jsonrpcMustBeExactlyTheString2Point0(String version) throws Exception {
        JsonNode answer = errorFor("{\"jsonrpc\":" + version + ",\"method\":\"ping\",\"id\":13}");

        assertThat(answer.get("id").asInt()).isEqualTo(13);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"42", "null", "true", "[\"ping\"]", "{\"name\":\"ping\"}"})
    void aMethodThatIsNotAStringIsInvalid(String method) throws Exception {
        JsonNode answer = errorFor("{\"jsonrpc\":\"2.0\",\"method\":" + method + ",\"id\":14}");

        assertThat(answer.get("id").asInt()).isEqualTo(14);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }

    @Test
    void aRequestWithoutMethodIsInvalid() throws Exception {
        JsonNode answer = errorFor("{\"jsonrpc\":\"2.0\",\"id\":15}");

        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "{\"n\":1}", "[1]"})
    void anIdThatIsNotAStringNumberOrNullIsInvalidAndAnsweredWithIdNull(String id) throws Exception {
        JsonNode answer = errorFor("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":" + id + "}");

        assertThat(answer.get("id").isNull()).isTrue();
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1\n", "\"x\"", "[[]]", "[1]", "{}"})
    void aValueThatIsNotARequestObjectIsInvalid(String value) throws Exception {
        // a top-level number ends only at a delimiter; "{}" is an object, but with no jsonrpc and no method
        JsonNode answer = errorFor(value);

        JsonNode error = answer.isArray() ? answer.get(0) : answer;
        assertThat(error.get("id").isNull()).isTrue();
        assertThat(error.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
    }
}
