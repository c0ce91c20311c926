package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests arrive on the socket however the client's writes split them: a byte at a time, several in one write
 * with no delimiter, pretty-printed without a trailing newline as SPDK's rpc.py writes them. Each complete
 * request gets exactly one answer, ending with a newline.
 */
class RpcStreamFramingTest {
    @TempDir
    Path dir;
    private RpcTestServer server;

    /** big: answers a string of {@code size} bytes, the last one being {@code tag}. */
    record BigParams(int size, String tag) {
    }

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard();
        methods.register("big", BigParams.class, (p, call) -> call.respond("b".repeat(p.size() - 1) + p.tag()));
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aRequestWrittenOneByteAtATimeGetsOneAnswer() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            // multi-byte UTF-8 characters are split across writes too
            client.sendByteByByte(request(7, "echo", "{\"text\":\"naïve ✓ 日本\",\"times\":3}"), Duration.ofMillis(1));

            JsonNode answer = client.readAnswer();

            assertThat(answer.get("jsonrpc").asText()).isEqualTo("2.0");
            assertThat(answer.get("id").asInt()).isEqualTo(7);
            assertThat(answer.get("result").get("text").asText()).isEqualTo("naïve ✓ 日本");
            assertThat(answer.get("result").get("times").asInt()).isEqualTo(3);
            assertThat(answer.has("error")).isFalse();
        }
    }

    @Test
    void twoRequestsBackToBackInOneWriteGetTwoAnswers() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            client.send(request(1, "echo", "{\"text\":\"first\"}") + request(2, "add", "{\"first_term\":2,\"second_term\":40}"));

            JsonNode first = client.readAnswer();
            JsonNode second = client.readAnswer();

            assertThat(first.get("id").asInt()).isEqualTo(1);
            assertThat(first.get("result").get("text").asText()).isEqualTo("first");
            assertThat(second.get("id").asInt()).isEqualTo(2);
            assertThat(second.get("result").asInt()).isEqualTo(42);
        }
    }

    @Test
    void manyRequestsPipelinedInOneWriteAreAllAnsweredInOrder() throws Exception {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            all.append(request(i, "add", "{\"first_term\":" + i + ",\"second_term\":1}")).append(i % 2 == 0 ? "" : " \n\t");
        }
        try (UnixRpcClient client = server.connect()) {
            client.send(all.toString());

            for (int i = 0; i < 500; i++) {
                JsonNode answer = client.readAnswer();
                assertThat(answer.get("id").asInt()).isEqualTo(i);
                assertThat(answer.get("result").asInt()).isEqualTo(i + 1);
            }
        }
    }

    @Test
    void answersLargerThanTheSocketBufferArriveWholeAndInOrderToASlowReader() throws Exception {
        int size = 300 * 1024;
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            requests.append(request(i, "big", "{\"size\":" + size + ",\"tag\":\"" + i + "\"}"));
        }
        try (UnixRpcClient client = server.connect()) {
            client.send(requests.toString());
            Thread.sleep(100); // the server fills the socket and must wait for us

            for (int i = 0; i < 10; i++) {
                JsonNode answer = client.readAnswer();
                assertThat(answer.get("id").asInt()).isEqualTo(i);
                String result = answer.get("result").asText();
                assertThat(result).hasSize(size).endsWith(String.valueOf(i));
            }
            assertThat(client.call(request(99, "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void aPrettyPrintedRequestWithNoTrailingNewlineIsAnsweredWithANewlineTerminatedLine() throws Exception {
        String pretty = Json.pretty(Map.of("jsonrpc", "2.0", "method", "echo", "id", 1,
                "params", Map.of("text", "from rpc.py")));
        assertThat(pretty).contains("\n").doesNotEndWith("\n");
        try (UnixRpcClient client = server.connect()) {
            client.send(pretty);

            String line = client.readLine(); // readLine only returns what ends with '\n'

            JsonNode answer = Json.MAPPER.readTree(line);
            assertThat(answer.get("id").asInt()).isEqualTo(1);
            assertThat(answer.get("result").get("text").asText()).isEqualTo("from rpc.py");
        }
    }

    @Test
    void aRequestWithoutIdIsAnsweredWithIdNullAsSpdkDoes() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call(request(null, "ping", null));

            assertThat(answer.has("id")).isTrue();
            assertThat(answer.get("id").isNull()).isTrue();
            assertThat(answer.get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void stringIdsComeBackUnchanged() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            JsonNode answer = client.call(request("req-ä-1", "ping", null));

            assertThat(answer.get("id").isTextual()).isTrue();
            assertThat(answer.get("id").asText()).isEqualTo("req-ä-1");
        }
    }

    @Test
    void aClientThatClosesItsSendingSideStillGetsItsAnswersThenEndOfStream() throws Exception {
        try (UnixRpcClient client = server.connect()) {
            client.send(request(1, "ping", null) + request(2, "ping", null));
            client.shutdownOutput();

            assertThat(client.readAnswer().get("id").asInt()).isEqualTo(1);
            assertThat(client.readAnswer().get("id").asInt()).isEqualTo(2);
            assertThat(client.endOfStream()).isTrue();
        }
    }
}
