package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * {@code epoll(7)}: an interest set of fds and a wait for the ready ones. Events are read from a caller-owned array
 * ({@link #newEvents}), each carrying the 64-bit tag given at {@link #ctl}, so waiting allocates nothing.
 */
public final class Epoll {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLL_CLOEXEC = 02000000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    /** {@code struct epoll_event} is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
    public static final long EVENT_BYTES = Libc.X86_64 ? 12 : 16;
    private static final long DATA_OFFSET = Libc.X86_64 ? 4 : 8;
    private static final ValueLayout.OfLong DATA = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final boolean PWAIT2 = pwait2Works();

    private Epoll() {
    }

    /** Room for {@code count} events: a wait's array, or one event as {@link #ctl}'s scratch. */
    public static MemorySegment newEvents(SegmentAllocator arena, int count) {
        return arena.allocate(EVENT_BYTES * count, 8);
    }

    /** {@code epoll_create1(flags)}: the new fd or {@code -errno}. */
    public static int create(int flags, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.EPOLL_CREATE1.invokeExact(callState, flags), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * {@code epoll_ctl(epfd, op, fd, {events, tag})}: 0 or {@code -errno}. {@code scratch} is one event's room
     * ({@link #newEvents}{@code (arena, 1)}), reused.
     */
    public static int ctl(int epfd, int op, int fd, int events, long tag, MemorySegment scratch, MemorySegment callState) {
        scratch.set(ValueLayout.JAVA_INT, 0, events);
        scratch.set(DATA, DATA_OFFSET, tag);
        try {
            return (int) Libc.orErrno((int) Libc.EPOLL_CTL.invokeExact(callState, epfd, op, fd, scratch), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * The events ready now, without waiting: how many were filled in (at most {@code max}), or -1 (errno is not
     * kept: the caller looks again next time). Cheap enough for every iteration of a poll-mode reactor.
     */
    public static int readyNow(int epfd, MemorySegment events, int max) {
        try {
            return (int) Libc.EPOLL_WAIT_NOW.invokeExact(epfd, events, max, 0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Room for {@link #wait}'s {@code struct timespec}. */
    public static MemorySegment newTimeout(SegmentAllocator arena) {
        return arena.allocate(16, 8);
    }

    /**
     * Waits up to {@code timeoutNanos} (negative: until an event) with nanosecond resolution ({@code epoll_pwait2},
     * Linux 5.11; where the kernel or C library lacks it, {@code epoll_wait} with the timeout rounded up to whole
     * milliseconds): how many events were filled in, or -1 (interrupted: errno is not kept). {@code timespec} is
     * {@link #newTimeout}'s room, reused.
     */
    public static int wait(int epfd, MemorySegment events, int max, long timeoutNanos, MemorySegment timespec) {
        try {
            if (timeoutNanos < 0) {
                return (int) Libc.EPOLL_WAIT.invokeExact(epfd, events, max, -1);
            }
            if (PWAIT2) {
                timespec.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
                timespec.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
                return (int) Libc.EPOLL_PWAIT2.invokeExact(epfd, events, max, timespec, MemorySegment.NULL);
            }
            return (int) Libc.EPOLL_WAIT.invokeExact(epfd, events, max,
                    (int) Math.min(Integer.MAX_VALUE, (timeoutNanos + 999_999) / 1_000_000));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Whether epoll_pwait2 works here: called on a bad fd, it answers EBADF where the kernel has it, ENOSYS not. */
    private static boolean pwait2Works() {
        if (Libc.EPOLL_PWAIT2_ERRNO == null || Libc.EPOLL_PWAIT2 == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            int rc = (int) Libc.EPOLL_PWAIT2_ERRNO.invokeExact(callState, -1, newEvents(arena, 1), 1,
                    newTimeout(arena), MemorySegment.NULL);
            return rc == 0 || Libc.errno(callState) != Libc.ENOSYS;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** The ready bits of event {@code i}. */
    public static int events(MemorySegment events, int i) {
        return events.get(ValueLayout.JAVA_INT, i * EVENT_BYTES);
    }

    /** The tag of event {@code i}, as given to {@link #ctl}. */
    public static long tag(MemorySegment events, int i) {
        return events.get(DATA, i * EVENT_BYTES + DATA_OFFSET);
    }
}
