package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.thread.CpuMask;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server bounds the size of one request, not of a connection: a request larger than the bound is refused
 * while it is still arriving (so the server never holds it whole), the connection is closed, and the server
 * goes on serving. Many small requests in one burst are each within the bound and are all served.
 */
class RpcRequestSizeBoundTest {
    private static final int BOUND = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void aRequestLargerThanTheBoundIsRefusedBeforeItHasAllArrivedAndTheServerGoesOn() throws Exception {
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"), BOUND, CpuMask.of(0));
                UnixRpcClient bystander = server.connect();
                UnixRpcClient client = server.connect()) {
            byte[] huge = request(1, "echo", "{\"text\":\"" + "x".repeat(1 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);

            Throwable writeFailure = catchThrowable(() -> client.write(huge));

            assertThat(writeFailure).as("the server stopped reading and closed; the rest of the 1 MiB could not be sent")
                    .isInstanceOf(IOException.class);
            assertThat(client.written()).isLessThan(huge.length);
            JsonNode answer = client.readAnswer();
            assertThat(answer.get("id").isNull()).isTrue();
            assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
            assertThat(answer.get("error").get("message").asText()).contains(String.valueOf(BOUND));
            assertThat(client.closedByServer()).isTrue();

            assertThat(bystander.call(request(2, "ping", null)).get("result").asText()).isEqualTo("pong");
            try (UnixRpcClient newcomer = server.connect()) {
                assertThat(newcomer.call(request(3, "ping", null)).get("result").asText()).isEqualTo("pong");
            }
        }
    }

    @Test
    void aRequestJustWithinTheBoundIsServed() throws Exception {
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"), BOUND, CpuMask.of(0));
                UnixRpcClient client = server.connect()) {
            String text = "y".repeat(BOUND - 200);
            String req = request(1, "echo", "{\"text\":\"" + text + "\"}");
            assertThat(req.length()).isLessThanOrEqualTo(BOUND);

            JsonNode answer = client.call(req);

            assertThat(answer.get("result").get("text").asText()).isEqualTo(text);
        }
    }

    @Test
    void manySmallRequestsInOneBurstAreEachWithinTheBound() throws Exception {
        int bound = 1024;
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            burst.append(request(i, "add", "{\"first_term\":" + i + ",\"second_term\":" + i + "}"));
        }
        assertThat(burst.length()).isGreaterThan(10 * bound);
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"), bound, CpuMask.of(0));
                UnixRpcClient client = server.connect()) {
            client.send(burst.toString());

            for (int i = 0; i < 200; i++) {
                JsonNode answer = client.readAnswer();
                assertThat(answer.get("id").asInt()).isEqualTo(i);
                assertThat(answer.get("result").asInt()).isEqualTo(2 * i);
            }
        }
    }

    @Test
    void aLargeRequestAfterSmallOnesInTheSameBurstIsStillRefused() throws Exception {
        int bound = 4096;
        String small = request(1, "ping", null);
        String large = request(2, "echo", "{\"text\":\"" + "z".repeat(bound) + "\"}");
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"), bound, CpuMask.of(0));
                UnixRpcClient client = server.connect()) {
            client.send(small + large);

            assertThat(client.readAnswer().get("result").asText()).isEqualTo("pong");
            assertThat(client.readAnswer().get("error").get("code").asInt()).isEqualTo(RpcException.INVALID_REQUEST);
            assertThat(client.closedByServer()).isTrue();
        }
    }
}
