package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code poll(2)}: the readiness of a list of fds, asked without a kernel object of its own. With a timeout of 0 it
 * only looks, which is what the simulation needs (an fd watch there is an action the scheduler may pick when its fd
 * is ready). The entries ({@code struct pollfd}: fd, events, revents) live in a caller-owned array ({@link #newFds}),
 * so asking allocates nothing. The event bits are epoll's ({@link Epoll#EPOLLIN}, ...), which have the same values.
 */
public final class Poll {
    /** The fd was not open: poll(2)'s own answer, never asked for. */
    public static final int POLLNVAL = 0x020;
    /** {@code struct pollfd}: int fd, short events, short revents. */
    public static final long FD_BYTES = 8;

    private Poll() {
    }

    /** Room for {@code count} entries. */
    public static MemorySegment newFds(Arena arena, int count) {
        return arena.allocate(FD_BYTES * count, 4);
    }

    /** Sets entry {@code i} to ask about {@code fd} for {@code events}. */
    public static void set(MemorySegment fds, int i, int fd, int events) {
        fds.set(ValueLayout.JAVA_INT, i * FD_BYTES, fd);
        fds.set(ValueLayout.JAVA_SHORT, i * FD_BYTES + 4, (short) events);
        fds.set(ValueLayout.JAVA_SHORT, i * FD_BYTES + 6, (short) 0);
    }

    /** The ready bits of entry {@code i} after {@link #poll}. */
    public static int revents(MemorySegment fds, int i) {
        return fds.get(ValueLayout.JAVA_SHORT, i * FD_BYTES + 6) & 0xffff;
    }

    /** {@code poll(fds, count, timeoutMillis)}: how many entries have ready bits, or {@code -errno}. */
    public static int poll(MemorySegment fds, int count, int timeoutMillis, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.POLL.invokeExact(callState, fds, (long) count, timeoutMillis),
                    callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
