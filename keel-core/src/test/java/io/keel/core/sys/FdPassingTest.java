package io.keel.core.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * What vhost-user does with guest memory: one end makes a memfd, maps it and writes; it passes the fd over a Unix
 * socket pair with SCM_RIGHTS; the other end maps the fd it received and sees the same bytes, and writes back.
 */
class FdPassingTest {
    private static final long SIZE = 1 << 16;

    @Test
    void aMemfdPassedOverASocketPairMapsTheSameMemoryOnTheOtherEnd() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            int[] pair = new int[2];
            assertThat(UnixSocket.socketpair(UnixSocket.SOCK_STREAM | UnixSocket.SOCK_CLOEXEC | UnixSocket.SOCK_NONBLOCK,
                    pair, cs)).isZero();
            int memfd = SharedMemory.memfdCreate("keel-test", SharedMemory.MFD_CLOEXEC, cs);
            assertThat(memfd).isPositive();
            assertThat(SharedMemory.truncate(memfd, SIZE, cs)).isZero();
            assertThat(SharedMemory.size(memfd, cs)).as("what a receiver checks before mapping").isEqualTo(SIZE);
            assertThat(SharedMemory.blockSize(memfd, cs)).as("a memfd's pages").isEqualTo(4096);
            MemorySegment mine = SharedMemory.mapShared(memfd, 0, SIZE, cs);
            assertThat(mine).isNotEqualTo(MemorySegment.NULL);
            mine.setString(100, "guest memory");

            FdMessage out = new FdMessage(arena, 64, 4);
            out.data().setString(0, "SET_MEM_TABLE");
            out.fd(0, memfd);
            out.prepareSend(14, 1);
            assertThat(UnixSocket.sendmsg(pair[0], out, 0, cs)).isEqualTo(14);

            FdMessage in = new FdMessage(arena, 64, 4);
            in.prepareReceive(64);
            assertThat(UnixSocket.recvmsg(pair[1], in, 0, cs)).isEqualTo(14);
            assertThat(in.data().getString(0)).isEqualTo("SET_MEM_TABLE");
            assertThat(in.fdCount()).isEqualTo(1);
            int received = in.fd(0);
            assertThat(received).isPositive().isNotEqualTo(memfd);
            MemorySegment theirs = SharedMemory.mapShared(received, 0, SIZE, cs);
            assertThat(Libc.close(received, cs)).as("the mapping outlives the fd").isZero();
            assertThat(theirs.getString(100)).isEqualTo("guest memory");
            theirs.set(ValueLayout.JAVA_INT, 4096, 42);
            assertThat(mine.get(ValueLayout.JAVA_INT, 4096)).isEqualTo(42);

            in.prepareReceive(64);
            assertThat(UnixSocket.recvmsg(pair[1], in, 0, cs)).as("nothing more").isEqualTo(-Libc.EAGAIN);
            out.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            out.prepareSend(1, 0);
            assertThat(UnixSocket.sendmsg(pair[0], out, 0, cs)).isEqualTo(1);
            in.prepareReceive(64);
            assertThat(UnixSocket.recvmsg(pair[1], in, 0, cs)).isEqualTo(1);
            assertThat(in.fdCount()).as("bytes without fds").isZero();

            assertThat(SharedMemory.unmap(theirs, cs)).isZero();
            assertThat(SharedMemory.unmap(mine, cs)).isZero();
            Libc.closeQuietly(memfd);
            Libc.closeQuietly(pair[0]);
            Libc.closeQuietly(pair[1]);
        }
    }
}
