package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.testing.NativeMemory;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of RPC clients come and go — connect and close, half a request then close, a request then close
 * without reading, a normal call — and afterwards, without a GC, the server holds no connection and the native
 * memory of the JVM is back within a small bound of where it started (rule R10).
 */
class RpcChurnTest {
    private static final int ROUNDS = 1000;
    /** NMT "Other" may move by a few pages of allocator noise; a leak per connection would be far above. */
    private static final long NATIVE_SLACK = 512 * 1024;

    @TempDir
    Path dir;

    @Test
    void connectionsComingAndGoingLeaveNothingBehind() throws Exception {
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), dir.resolve("keel.sock"))) {
            churn(server, 100); // warm up: NIO's per-thread buffers, class loading
            await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
            long before = NativeMemory.otherCommitted();

            churn(server, ROUNDS);

            await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
            assertThat(server.onServer(RpcServer::unsentBytes)).isZero();
            long after = NativeMemory.otherCommitted();
            System.out.printf("RPC churn: %d connections, NMT Other %d KiB before, %d KiB after%n", 4 * ROUNDS,
                    before / 1024, after / 1024);
            if (before >= 0) {
                assertThat(after - before).as("native memory growth after %d connections", 4 * ROUNDS)
                        .isLessThan(NATIVE_SLACK);
            }
            try (UnixRpcClient c = server.connect()) {
                assertThat(c.call(request(1, "ping", null)).get("result").asText()).isEqualTo("pong");
            }
        }
    }

    private static void churn(RpcTestServer server, int rounds) throws IOException {
        byte[] ping = request(1, "ping", null).getBytes(StandardCharsets.UTF_8);
        byte[] half = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":{\"text\":\"never fini"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer answer = ByteBuffer.allocate(256);
        for (int i = 0; i < rounds; i++) {
            try (SocketChannel c = open(server)) { // connect and close
                c.finishConnect();
            }
            try (SocketChannel c = open(server)) { // half a request, then gone
                c.write(ByteBuffer.wrap(half));
            }
            try (SocketChannel c = open(server)) { // a request, gone before the answer is read
                c.write(ByteBuffer.wrap(ping));
            }
            try (SocketChannel c = open(server)) { // a normal call
                c.write(ByteBuffer.wrap(ping));
                answer.clear();
                while (answer.position() == 0 || answer.get(answer.position() - 1) != '\n') {
                    if (c.read(answer) < 0) {
                        throw new AssertionError("closed before answering");
                    }
                }
            }
        }
    }

    private static SocketChannel open(RpcTestServer server) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(server.socket));
        return c;
    }
}
