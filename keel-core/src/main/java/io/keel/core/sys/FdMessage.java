package io.keel.core.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * A {@code struct msghdr} with one data buffer and room for up to {@code maxFds} passed fds ({@code SCM_RIGHTS}),
 * all allocated once: a connection keeps one for sending and one for receiving, and each message reuses it.
 * Layout is LP64 Linux (x86_64, aarch64).
 */
public final class FdMessage {
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final long MSGHDR_BYTES = 56;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_CONTROL = 32;
    private static final long MSG_CONTROLLEN = 40;
    private static final long MSG_FLAGS = 48;
    private static final long CMSG_HEADER_BYTES = 16; // cmsg_len (size_t), cmsg_level, cmsg_type
    private static final long CMSG_LEVEL = 8;
    private static final long CMSG_TYPE = 12;
    /** MSG_CTRUNC in msg_flags: the sender passed more fds than there was room for (the kernel closed the rest). */
    public static final int MSG_CTRUNC = 0x8;

    private final MemorySegment header;
    private final MemorySegment iov;
    private final MemorySegment control;
    private final MemorySegment data;
    private final int maxFds;

    public FdMessage(SegmentAllocator arena, long dataBytes, int maxFds) {
        this.maxFds = maxFds;
        this.header = arena.allocate(MSGHDR_BYTES, 8);
        this.iov = arena.allocate(Libc.IOVEC_BYTES, 8);
        this.control = arena.allocate(CMSG_HEADER_BYTES + align8(4L * Math.max(maxFds, 1)), 8);
        this.data = arena.allocate(dataBytes, 8);
        header.set(ValueLayout.ADDRESS, MSG_IOV, iov);
        header.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, 1);
        iov.set(ValueLayout.ADDRESS, 0, data);
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    /** The data buffer: write a message's bytes here before {@link #prepareSend}, read them after a receive. */
    public MemorySegment data() {
        return data;
    }

    /** Sets up a send of the first {@code length} bytes of {@link #data} with {@code fdCount} fds (set by {@link #fd(int, int)}). */
    public void prepareSend(long length, int fdCount) {
        if (fdCount > maxFds) {
            throw new IllegalArgumentException(fdCount + " fds, room for " + maxFds);
        }
        iov.set(ValueLayout.JAVA_LONG, 8, length);
        if (fdCount == 0) {
            header.set(ValueLayout.ADDRESS, MSG_CONTROL, MemorySegment.NULL);
            header.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, 0);
        } else {
            control.set(ValueLayout.JAVA_LONG, 0, CMSG_HEADER_BYTES + 4L * fdCount);
            control.set(ValueLayout.JAVA_INT, CMSG_LEVEL, SOL_SOCKET);
            control.set(ValueLayout.JAVA_INT, CMSG_TYPE, SCM_RIGHTS);
            header.set(ValueLayout.ADDRESS, MSG_CONTROL, control);
            header.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, CMSG_HEADER_BYTES + align8(4L * fdCount));
        }
        header.set(ValueLayout.JAVA_INT, MSG_FLAGS, 0);
    }

    /** Sets up a receive of up to {@code length} bytes (at most the buffer) and up to the room's fds. */
    public void prepareReceive(long length) {
        iov.set(ValueLayout.JAVA_LONG, 8, Math.min(length, data.byteSize()));
        control.set(ValueLayout.JAVA_LONG, 0, 0);
        header.set(ValueLayout.ADDRESS, MSG_CONTROL, maxFds == 0 ? MemorySegment.NULL : control);
        header.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, maxFds == 0 ? 0 : control.byteSize());
        header.set(ValueLayout.JAVA_INT, MSG_FLAGS, 0);
    }

    /** Sets passed fd {@code i} for the next send. */
    public void fd(int i, int fd) {
        control.set(ValueLayout.JAVA_INT, CMSG_HEADER_BYTES + 4L * i, fd);
    }

    /** How many fds the last receive brought (0 without an {@code SCM_RIGHTS} message). */
    public int fdCount() {
        long controlLen = header.get(ValueLayout.JAVA_LONG, MSG_CONTROLLEN);
        if (controlLen < CMSG_HEADER_BYTES || control.get(ValueLayout.JAVA_INT, CMSG_LEVEL) != SOL_SOCKET
                || control.get(ValueLayout.JAVA_INT, CMSG_TYPE) != SCM_RIGHTS) {
            return 0;
        }
        return (int) ((control.get(ValueLayout.JAVA_LONG, 0) - CMSG_HEADER_BYTES) / 4);
    }

    /** Passed fd {@code i} of the last receive. */
    public int fd(int i) {
        return control.get(ValueLayout.JAVA_INT, CMSG_HEADER_BYTES + 4L * i);
    }

    /** The last receive's {@code msg_flags} (e.g. {@link #MSG_CTRUNC}). */
    public int flags() {
        return header.get(ValueLayout.JAVA_INT, MSG_FLAGS);
    }

    MemorySegment header() {
        return header;
    }
}
