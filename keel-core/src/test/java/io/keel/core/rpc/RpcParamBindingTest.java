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
 * A request's params are bound to the method's record by their snake_case names. Whatever is wrong with them
 * (an unknown name, a missing required one, a wrong type, params for a method that takes none) is -32602 with
 * a message that names the parameter, so an operator can fix the call; the connection stays open.
 */
class RpcParamBindingTest {
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

    /** The -32602 error's message for this call (asserting it is -32602 and keeps the id). */
    private String invalidParams(String method, String params) throws Exception {
        JsonNode answer = client.call(request(21, method, params));
        assertThat(answer.get("id").asInt()).isEqualTo(21);
        assertThat(answer.has("result")).isFalse();
        assertThat(answer.get("error").get("code").asInt()).as(answer.toString()).isEqualTo(RpcException.INVALID_PARAMS);
        assertThat(client.call(request(22, "ping", null)).get("result").asText()).isEqualTo("pong");
        return answer.get("error").get("message").asText();
    }

    @Test
    void snakeCaseParamsBindToTheRecordAndOptionalOnesTakeTheirDefaults() throws Exception {
        assertThat(client.call(request(1, "add", "{\"first_term\":40,\"second_term\":2}")).get("result").asInt())
                .isEqualTo(42);
        JsonNode echoed = client.call(request(2, "echo", "{\"text\":\"hi\"}")).get("result");
        assertThat(echoed.get("text").asText()).isEqualTo("hi");
        assertThat(echoed.get("times").asInt()).isEqualTo(1);
    }

    @Test
    void anUnknownParameterIsNamed() throws Exception {
        assertThat(invalidParams("echo", "{\"text\":\"hi\",\"colour\":\"red\"}")).contains("colour");
    }

    @Test
    void aCamelCaseNameIsUnknownOnTheWire() throws Exception {
        assertThat(invalidParams("add", "{\"firstTerm\":1,\"second_term\":2}")).contains("firstTerm");
    }

    @Test
    void aMissingRequiredParameterIsNamed() throws Exception {
        assertThat(invalidParams("add", "{\"first_term\":1}")).contains("second_term").doesNotContain("'first_term'");
    }

    @Test
    void aRequiredParameterGivenAsNullIsMissing() throws Exception {
        assertThat(invalidParams("echo", "{\"text\":null}")).contains("text");
    }

    @Test
    void noParamsAtAllForAMethodWithRequiredOnesNamesThem() throws Exception {
        assertThat(invalidParams("add", null)).contains("first_term", "second_term");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"forty\"", "{\"n\":1}", "[1]", "true", "1.5", "-0.25", "99999999999", "1e10", "1e999"})
    void aValueOfTheWrongTypeIsNamed(String value) throws Exception {
        assertThat(invalidParams("add", "{\"first_term\":" + value + ",\"second_term\":2}")).contains("first_term");
    }

    @ParameterizedTest
    @ValueSource(strings = {"40.0", "4e1", "400e-1", "40.000"})
    void anIntegerWrittenAsAFloatIsTakenAsSpdkDoes(String forty) throws Exception {
        JsonNode answer = client.call(request(3, "add", "{\"first_term\":" + forty + ",\"second_term\":2}"));

        assertThat(answer.get("result").asInt()).as(answer.toString()).isEqualTo(42);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"x\":1}", "[1]", "5", "\"text\"", "true"})
    void paramsForAMethodThatTakesNoneAreInvalid(String params) throws Exception {
        assertThat(invalidParams("ping", params)).contains("ping");
    }

    @Test
    void emptyOrNullParamsForAMethodThatTakesNoneAreFine() throws Exception {
        assertThat(client.call(request(1, "ping", "{}")).get("result").asText()).isEqualTo("pong");
        assertThat(client.call(request(2, "ping", "null")).get("result").asText()).isEqualTo("pong");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"hi\"]", "\"hi\"", "7"})
    void paramsThatAreNotAnObjectAreInvalid(String params) throws Exception {
        assertThat(invalidParams("echo", params)).contains("object");
    }
}
