package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Unix-domain sockets at the fd level: {@code socketpair(2)}, and {@code sendmsg(2)}/{@code recvmsg(2)} of a
 * {@link FdMessage} (bytes plus passed fds, as vhost-user's control socket carries them).
 */
public final class UnixSocket {
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = 04000;
    public static final int SOCK_CLOEXEC = 02000000;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;

    private UnixSocket() {
    }

    /**
     * {@code socketpair(AF_UNIX, type, 0, fds)}: 0 with the two ends in {@code fds[0]} and {@code fds[1]}, or
     * {@code -errno}. {@code type} may carry {@link #SOCK_NONBLOCK} and {@link #SOCK_CLOEXEC}.
     */
    public static int socketpair(int type, int[] fds, MemorySegment callState) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sv = arena.allocate(ValueLayout.JAVA_INT, 2);
            int rc = (int) Libc.orErrno((int) Libc.SOCKETPAIR.invokeExact(callState, AF_UNIX, type, 0, sv), callState);
            if (rc == 0) {
                fds[0] = sv.getAtIndex(ValueLayout.JAVA_INT, 0);
                fds[1] = sv.getAtIndex(ValueLayout.JAVA_INT, 1);
            }
            return rc;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Sends {@code message}'s bytes and fds: bytes sent or {@code -errno}. {@link #MSG_NOSIGNAL} is always added. */
    public static long sendmsg(int fd, FdMessage message, int flags, MemorySegment callState) {
        try {
            return Libc.orErrno((long) Libc.SENDMSG.invokeExact(callState, fd, message.header(), flags | MSG_NOSIGNAL),
                    callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Receives into {@code message} (prepare it with {@link FdMessage#prepareReceive}): bytes received, 0 at end of
     * stream, or {@code -errno}. Passed fds are then in {@link FdMessage#fdCount}/{@link FdMessage#fd}; the
     * caller owns them. {@link #MSG_CMSG_CLOEXEC} is always added.
     */
    public static long recvmsg(int fd, FdMessage message, int flags, MemorySegment callState) {
        try {
            return Libc.orErrno((long) Libc.RECVMSG.invokeExact(callState, fd, message.header(),
                    flags | MSG_CMSG_CLOEXEC), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
