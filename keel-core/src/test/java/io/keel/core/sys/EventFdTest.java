package io.keel.core.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A non-blocking eventfd: writes add up, a read takes the sum, an empty one reads EAGAIN. */
class EventFdTest {
    @Test
    void writesAddUpAndAReadTakesThemAll() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            MemorySegment count = arena.allocate(EventFd.COUNT_BYTES, 8);
            int fd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
            assertThat(fd).isPositive();
            try {
                assertThat(EventFd.read(fd, count, cs)).as("empty").isEqualTo(-Libc.EAGAIN);
                assertThat(EventFd.write(fd, 2, count, cs)).isEqualTo(8);
                assertThat(EventFd.write(fd, 3, count, cs)).isEqualTo(8);
                assertThat(EventFd.read(fd, count, cs)).isEqualTo(5);
                assertThat(EventFd.read(fd, count, cs)).as("taken").isEqualTo(-Libc.EAGAIN);
            } finally {
                assertThat(Libc.close(fd, cs)).isZero();
            }
            assertThat(Libc.close(fd, cs)).as("closed twice").isEqualTo(-Libc.EBADF);
        }
    }
}
