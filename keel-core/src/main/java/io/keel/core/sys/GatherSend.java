package io.keel.core.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * One gathering send on a socket descriptor: pieces of native memory (address and length) collected into an iovec
 * array, then written with one {@code sendmsg(2)} ({@code MSG_NOSIGNAL}: a peer gone away is an error, not a
 * signal). The arrays are allocated once; nothing is allocated per send. Single-threaded.
 */
public final class GatherSend {
    private static final long MSGHDR_BYTES = 56;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;

    private final MemorySegment iov;
    private final MemorySegment header;
    private final MemorySegment callState;
    private final int capacity;
    private int count;

    /** Room for {@code capacity} pieces per send (at most 1024, the kernel's IOV_MAX). */
    public GatherSend(SegmentAllocator arena, int capacity) {
        if (capacity < 1 || capacity > 1024) {
            throw new IllegalArgumentException("pieces per send out of range 1..1024: " + capacity);
        }
        this.capacity = capacity;
        iov = arena.allocate(Libc.IOVEC_BYTES * capacity, 8);
        header = arena.allocate(MSGHDR_BYTES, 8);
        header.fill((byte) 0);
        header.set(ValueLayout.JAVA_LONG, MSG_IOV, iov.address());
        callState = Libc.callState(arena);
    }

    /** Starts a new send. */
    public void clear() {
        count = 0;
    }

    /** Pieces that can still be added. */
    public int room() {
        return capacity - count;
    }

    /** Adds {@code length} bytes at native address {@code address}; the caller checked {@link #room}. */
    public void add(long address, long length) {
        long at = count++ * Libc.IOVEC_BYTES;
        iov.set(ValueLayout.JAVA_LONG, at, address);
        iov.set(ValueLayout.JAVA_LONG, at + 8, length);
    }

    /** Pieces added since {@link #clear}. */
    public int count() {
        return count;
    }

    /** The address of piece {@code i}. */
    public long address(int i) {
        return iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_BYTES);
    }

    /** The length of piece {@code i}. */
    public long length(int i) {
        return iov.get(ValueLayout.JAVA_LONG, i * Libc.IOVEC_BYTES + 8);
    }

    /** Sends the pieces added, in order: the bytes the socket took, or {@code -errno} ({@code -EAGAIN}: none). */
    public long send(int fd) {
        header.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, count);
        return Libc.sendmsg(fd, header, UnixSocket.MSG_NOSIGNAL, callState);
    }
}
