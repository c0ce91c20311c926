package io.keel.vhost.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The reader takes a message's fds with it, and refuses a message that passes more than it has room for. */
class MessageReaderTest {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment cs = Libc.callState(arena);
    private final int[] pair = new int[2];

    MessageReaderTest() {
        UnixSocket.socketpair(UnixSocket.SOCK_STREAM | UnixSocket.SOCK_NONBLOCK | UnixSocket.SOCK_CLOEXEC, pair, cs);
    }

    @AfterEach
    void close() {
        Libc.closeQuietly(pair[0]);
        Libc.closeQuietly(pair[1]);
        arena.close();
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private void send(int fdCount, int request) {
        FdMessage out = new FdMessage(arena, 20, fdCount);
        out.data().set(ValueLayout.JAVA_INT, 0, request);
        out.data().set(ValueLayout.JAVA_INT, 4, VhostUserMessage.VERSION);
        out.data().set(ValueLayout.JAVA_INT, 8, 8);
        out.data().set(ValueLayout.JAVA_LONG_UNALIGNED, 12, 0);
        for (int i = 0; i < fdCount; i++) {
            out.fd(i, EventFd.create(0, EventFd.EFD_CLOEXEC, cs));
        }
        out.prepareSend(20, fdCount);
        assertThat(UnixSocket.sendmsg(pair[0], out, 0, cs)).isEqualTo(20);
        for (int i = 0; i < fdCount; i++) {
            Libc.closeQuietly(out.fd(i)); // ours; the receiver has its own copies
        }
    }

    @Test
    void theFdsThatCameWithAMessageAreItsAndUnclaimedOnesAreClosedAfterIt() throws IOException {
        MessageReader reader = new MessageReader(arena);
        long before = openFds();
        send(2, VhostUserRequest.SET_VRING_CALL);
        send(0, VhostUserRequest.GET_FEATURES);

        assertThat(reader.read(pair[1], cs)).isEqualTo(MessageReader.Result.MESSAGE);
        assertThat(reader.message().request()).isEqualTo(VhostUserRequest.SET_VRING_CALL);
        assertThat(reader.fdCount()).isEqualTo(2);
        reader.finish();
        assertThat(openFds()).isEqualTo(before);
        assertThat(reader.read(pair[1], cs)).isEqualTo(MessageReader.Result.MESSAGE);
        assertThat(reader.message().request()).isEqualTo(VhostUserRequest.GET_FEATURES);
        assertThat(reader.fdCount()).as("the next message has none of them").isZero();
        reader.finish();
        assertThat(reader.read(pair[1], cs)).isEqualTo(MessageReader.Result.AGAIN);
    }

    @Test
    void aMessageWithMoreFdsThanTheReaderTakesIsMalformedAndNoneOfThemStaysOpen() throws IOException {
        MessageReader reader = new MessageReader(arena);
        long before = openFds();
        send(VhostUserMessage.MAX_FDS + 3, VhostUserRequest.SET_MEM_TABLE);

        assertThat(reader.read(pair[1], cs)).isEqualTo(MessageReader.Result.MALFORMED);
        assertThat(reader.problem()).contains("more than 8 fds");
        reader.finish();
        assertThat(openFds()).isEqualTo(before);
    }
}
