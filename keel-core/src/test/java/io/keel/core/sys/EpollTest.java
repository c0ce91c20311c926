package io.keel.core.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** An epoll set over two eventfds reports the one that was signalled, with the tag it was added under. */
class EpollTest {
    @Test
    void reportsTheReadyFdWithItsTagAndNothingOnceRemoved() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            MemorySegment count = arena.allocate(EventFd.COUNT_BYTES, 8);
            MemorySegment scratch = Epoll.newEvents(arena, 1);
            MemorySegment events = Epoll.newEvents(arena, 4);
            MemorySegment timeout = Epoll.newTimeout(arena);
            int ep = Epoll.create(Epoll.EPOLL_CLOEXEC, cs);
            int a = EventFd.create(0, EventFd.EFD_NONBLOCK, cs);
            int b = EventFd.create(0, EventFd.EFD_NONBLOCK, cs);
            try {
                assertThat(Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, a, Epoll.EPOLLIN, 0xA0000000AL, scratch, cs)).isZero();
                assertThat(Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, b, Epoll.EPOLLIN, 0xBL, scratch, cs)).isZero();
                assertThat(Epoll.readyNow(ep, events, 4)).as("nothing ready").isZero();

                EventFd.write(b, 1, count, cs);
                assertThat(Epoll.wait(ep, events, 4, 1_000_000_000L, timeout)).isEqualTo(1);
                assertThat(Epoll.tag(events, 0)).isEqualTo(0xBL);
                assertThat(Epoll.events(events, 0) & Epoll.EPOLLIN).isNotZero();

                EventFd.write(a, 1, count, cs);
                assertThat(Epoll.ctl(ep, Epoll.EPOLL_CTL_DEL, b, 0, 0, scratch, cs)).isZero();
                assertThat(Epoll.readyNow(ep, events, 4)).isEqualTo(1);
                assertThat(Epoll.tag(events, 0)).isEqualTo(0xA0000000AL);
                assertThat(Epoll.ctl(ep, Epoll.EPOLL_CTL_DEL, b, 0, 0, scratch, cs)).as("not in the set")
                        .isEqualTo(-Libc.ENOENT);
            } finally {
                Libc.closeQuietly(a);
                Libc.closeQuietly(b);
                Libc.closeQuietly(ep);
            }
        }
    }
}
