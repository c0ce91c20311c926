package io.keel.core.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/** readv on the descriptor of a NIO socket: bytes scatter over the iovecs, EAGAIN when empty, 0 at end of stream. */
class ReadvTest {
    @Test
    void readvScattersWhatArrivedAndTellsEmptyFromClosed() throws Exception {
        try (Arena arena = Arena.ofConfined();
                ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel reader = SocketChannel.open(server.getLocalAddress());
                SocketChannel writer = server.accept()) {
            reader.configureBlocking(false);
            int fd = NioFds.fdOf(reader);
            assertThat(fd).as("the JVM runs with --add-exports java.base/sun.nio.ch (pom.xml, ./keel)").isPositive();
            MemorySegment iov = arena.allocate(Libc.IOVEC_BYTES * 2, 8);
            MemorySegment state = Libc.callState(arena);
            MemorySegment a = arena.allocate(3);
            MemorySegment b = arena.allocate(100);
            iov.set(ValueLayout.JAVA_LONG, 0, a.address());
            iov.set(ValueLayout.JAVA_LONG, 8, a.byteSize());
            iov.set(ValueLayout.JAVA_LONG, 16, b.address());
            iov.set(ValueLayout.JAVA_LONG, 24, b.byteSize());

            assertThat(Libc.readv(fd, iov, 2, state)).isEqualTo(-Libc.EAGAIN);
            writer.write(ByteBuffer.wrap("0123456789".getBytes()));
            long n = 0;
            for (int i = 0; i < 1000 && n <= 0; i++) {
                n = Libc.readv(fd, iov, 2, state);
                Thread.sleep(n <= 0 ? 1 : 0);
            }
            assertThat(n).isEqualTo(10);
            assertThat(new String(a.toArray(ValueLayout.JAVA_BYTE))).isEqualTo("012");
            assertThat(new String(b.asSlice(0, 7).toArray(ValueLayout.JAVA_BYTE))).isEqualTo("3456789");
            writer.close();
            long end = -1;
            for (int i = 0; i < 1000 && end != 0; i++) {
                end = Libc.readv(fd, iov, 2, state);
                Thread.sleep(end != 0 ? 1 : 0);
            }
            assertThat(end).isZero();
        }
    }
}
