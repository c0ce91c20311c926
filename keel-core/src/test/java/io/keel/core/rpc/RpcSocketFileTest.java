package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The socket file: created private (0600) with no temporary file left behind; a leftover file where nobody
 * listens is replaced; a path someone still serves on is refused, leaving that server alone; close() removes
 * the file.
 */
class RpcSocketFileTest {
    @TempDir
    Path dir;

    private Path socket() {
        return dir.resolve("keel.sock");
    }

    private static String ping(RpcTestServer server) throws Exception {
        try (UnixRpcClient client = server.connect()) {
            return client.call(request(1, "ping", null)).get("result").asText();
        }
    }

    private Stream<Path> filesInDir() throws Exception {
        return Files.list(dir).map(Path::getFileName);
    }

    @Test
    void theSocketFileIsOnlyForItsOwnerAndNoTemporaryFileIsLeft() throws Exception {
        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), socket())) {
            assertThat(Files.getPosixFilePermissions(socket()))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            try (Stream<Path> files = filesInDir()) {
                assertThat(files).containsExactly(Path.of("keel.sock"));
            }
            assertThat(ping(server)).isEqualTo("pong");
        }
    }

    @Test
    void aStaleSocketLeftByADeadServerIsReplaced() throws Exception {
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket()));
        } // closed without unlinking, as after a crash
        assertThat(socket()).exists();

        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), socket())) {
            assertThat(ping(server)).isEqualTo("pong");
            assertThat(Files.getPosixFilePermissions(socket())).hasSize(2);
        }
    }

    @Test
    void aLeftoverRegularFileIsReplaced() throws Exception {
        Files.createFile(socket());

        try (RpcTestServer server = RpcTestServer.start(TestMethods.standard(), socket())) {
            assertThat(Files.isRegularFile(socket())).isFalse();
            assertThat(ping(server)).isEqualTo("pong");
        }
    }

    @Test
    void aSecondServerOnALiveSocketIsRefusedAndTheFirstGoesOn() throws Exception {
        try (RpcTestServer first = RpcTestServer.start(TestMethods.standard(), socket())) {
            KeelThread second = first.runtime.createThread("second_rpc", CpuMask.of(0));

            assertThatExceptionOfType(UncheckedIOException.class)
                    .isThrownBy(() -> RpcTestServer.on(second,
                            () -> RpcServer.listen(TestMethods.standard(), socket(), RpcServer.DEFAULT_MAX_REQUEST_BYTES)))
                    .withMessageContaining("another process is serving")
                    .withMessageContaining(socket().toString());

            assertThat(ping(first)).isEqualTo("pong");
            try (Stream<Path> files = filesInDir()) {
                assertThat(files).containsExactly(Path.of("keel.sock"));
            }
        }
    }

    @Test
    void aSocketThatAnotherProgramListensOnIsRefusedToo() throws Exception {
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(socket()));

            assertThatExceptionOfType(UncheckedIOException.class)
                    .isThrownBy(() -> RpcTestServer.start(TestMethods.standard(), socket()).close())
                    .withMessageContaining("another process is serving");
            assertThat(socket()).exists();
        }
    }

    @Test
    void closeRemovesTheSocketFile() throws Exception {
        RpcTestServer server = RpcTestServer.start(TestMethods.standard(), socket());
        assertThat(socket()).exists();

        server.close();

        assertThat(socket()).doesNotExist();
        try (Stream<Path> files = filesInDir()) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void listeningOffALightweightThreadIsRefused() {
        assertThatIllegalStateException()
                .isThrownBy(() -> RpcServer.listen(TestMethods.standard(), socket(), RpcServer.DEFAULT_MAX_REQUEST_BYTES))
                .withMessageContaining("lightweight thread");
        assertThat(socket()).doesNotExist();
    }
}
