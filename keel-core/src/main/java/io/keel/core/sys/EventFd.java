package io.keel.core.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code eventfd(2)}: a kernel counter with an fd, for cross-process wakeups (vhost's kick and call). Reads and
 * writes move one 8-byte count through a caller-owned segment, so signalling allocates nothing.
 */
public final class EventFd {
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = 04000;
    public static final int EFD_CLOEXEC = 02000000;
    /** Bytes of the count buffer {@link #read} and {@link #write} take. */
    public static final long COUNT_BYTES = 8;

    private EventFd() {
    }

    /** {@code eventfd(initial, flags)}: the new fd or {@code -errno}. */
    public static int create(int initial, int flags, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.EVENTFD.invokeExact(callState, initial, flags), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Adds {@code value} to the counter: 8 or {@code -errno} ({@code -EAGAIN} if it would overflow, non-blocking). */
    public static long write(int fd, long value, MemorySegment countBuffer, MemorySegment callState) {
        countBuffer.set(ValueLayout.JAVA_LONG, 0, value);
        return Libc.write(fd, countBuffer, COUNT_BYTES, callState);
    }

    /**
     * Takes the counter (or 1 with {@link #EFD_SEMAPHORE}): the value read, or {@code -errno} ({@code -EAGAIN}: zero,
     * non-blocking). The counter never reads as 0, so a non-negative result is always a count.
     */
    public static long read(int fd, MemorySegment countBuffer, MemorySegment callState) {
        long n = Libc.read(fd, countBuffer, COUNT_BYTES, callState);
        return n < 0 ? n : countBuffer.get(ValueLayout.JAVA_LONG, 0);
    }
}
