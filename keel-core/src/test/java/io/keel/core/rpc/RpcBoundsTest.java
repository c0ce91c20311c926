package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.testing.LogCapture;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client can make the RPC server hold is bounded: one that sends without reading its answers is no
 * longer read once its unsent answers pass the bound, and is closed when it has taken nothing for a while; a
 * client beyond the connection bound is refused with a log line.
 */
class RpcBoundsTest {
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

    private SocketChannel rawClient() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(server.socket));
        ch.configureBlocking(false);
        return ch;
    }

    /**
     * Writes pings until the socket takes no more for a second (the server stopped reading) or the server closes
     * it; returns the bytes written.
     */
    private static long floodUntilRefused(SocketChannel ch) throws IOException, InterruptedException {
        byte[] burst = request(1, "ping", null).repeat(1000).getBytes(StandardCharsets.UTF_8);
        long total = 0;
        long quietSince = System.nanoTime();
        ByteBuffer b = ByteBuffer.wrap(burst);
        while (System.nanoTime() - quietSince < 1_000_000_000L) {
            if (!b.hasRemaining()) {
                b.rewind(); // whole requests only: a stream cut mid-request would be a parse error
            }
            int n;
            try {
                n = ch.write(b);
            } catch (IOException closedByServer) {
                return total;
            }
            total += n;
            if (n > 0) {
                quietSince = System.nanoTime();
            } else {
                Thread.sleep(5);
            }
            if (total > (256L << 20)) {
                throw new AssertionError("the server read 256 MiB from a client that never reads its answers");
            }
        }
        return total;
    }

    @Test
    void aClientThatNeverReadsItsAnswersIsNoLongerReadOnceTheyPileUp() throws Exception {
        try (SocketChannel ch = rawClient()) {
            long sent = floodUntilRefused(ch);

            long unsent = server.onServer(RpcServer::unsentBytes);
            assertThat(sent).as("the client did get to send a lot").isGreaterThan(RpcConnection.MAX_UNSENT_BYTES);
            assertThat(unsent).as("answers held for it").isGreaterThanOrEqualTo(RpcConnection.MAX_UNSENT_BYTES)
                    .isLessThan(RpcConnection.MAX_UNSENT_BYTES + (1 << 20));
            assertThat(server.connectionCount()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
        assertThat(server.onServer(RpcServer::unsentBytes)).isZero();
    }

    @Test
    void aClientThatTakesNoAnswersIsClosedAfterTheStallBound() throws Exception {
        server.onServer(s -> {
            s.writeStallNanos(500_000_000L);
            return null;
        });
        try (SocketChannel ch = rawClient(); LogCapture log = LogCapture.warningsOf(RpcServer.class)) {
            floodUntilRefused(ch);

            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("took none of its answers"));
        }
    }

    @Test
    void clientsBeyondTheConnectionBoundAreRefusedAndLogged() throws Exception {
        List<UnixRpcClient> held = new ArrayList<>();
        try (LogCapture log = LogCapture.warningsOf(RpcServer.class)) {
            for (int i = 0; i < RpcServer.MAX_CONNECTIONS; i++) {
                held.add(server.connect());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == RpcServer.MAX_CONNECTIONS);
            try (UnixRpcClient extra = server.connect()) {
                assertThat(extra.closedByServer()).isTrue();
            }
            assertThat(server.onServer(RpcServer::refusedConnections)).isEqualTo(1);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("refusing a client"));

            held.removeFirst().close();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == RpcServer.MAX_CONNECTIONS - 1);
            try (UnixRpcClient late = server.connect()) {
                assertThat(late.call(request(2, "ping", null)).get("result").asText()).isEqualTo("pong");
            }
        } finally {
            for (UnixRpcClient c : held) {
                c.close();
            }
        }
    }
}
