package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Unix-domain sockets at the fd level: {@code socketpair(2)}, a listening socket at a path and {@code accept4(2)}, and {@code sendmsg(2)}/{@code recvmsg(2)} of a
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
    /** {@code sizeof(struct sockaddr_un)}: a 2-byte family, then the path (with its terminating NUL). */
    public static final int SOCKADDR_UN_BYTES = 110;
    public static final int MAX_PATH_BYTES = SOCKADDR_UN_BYTES - 2 - 1;

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

    /**
     * A non-blocking, close-on-exec stream socket listening at {@code path} with {@code backlog}: its fd, or
     * {@code -errno} ({@code -ENAMETOOLONG} for a path longer than {@link #MAX_PATH_BYTES} bytes). The caller removes
     * a file left at the path first, and the file when done.
     */
    public static int listen(String path, int backlog, MemorySegment callState) {
        return atPath(path, backlog, callState);
    }

    /**
     * A non-blocking, close-on-exec stream socket connected to the listening socket at {@code path} (a Unix
     * socket's connect completes at once): its fd, or {@code -errno}.
     */
    public static int connect(String path, MemorySegment callState) {
        return atPath(path, -1, callState);
    }

    /** A socket bound to {@code path} and listening with {@code backlog}, or (backlog -1) connected to it. */
    private static int atPath(String path, int backlog, MemorySegment callState) {
        byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (name.length > MAX_PATH_BYTES) {
            return -Libc.ENAMETOOLONG;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SOCKADDR_UN_BYTES, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            int fd = (int) Libc.orErrno((int) Libc.SOCKET.invokeExact(callState, AF_UNIX,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), callState);
            if (fd < 0) {
                return fd;
            }
            int rc;
            if (backlog < 0) {
                rc = (int) Libc.orErrno((int) Libc.CONNECT.invokeExact(callState, fd, addr, SOCKADDR_UN_BYTES),
                        callState);
            } else {
                rc = (int) Libc.orErrno((int) Libc.BIND.invokeExact(callState, fd, addr, SOCKADDR_UN_BYTES), callState);
                if (rc == 0) {
                    rc = (int) Libc.orErrno((int) Libc.LISTEN.invokeExact(callState, fd, backlog), callState);
                }
            }
            if (rc != 0) {
                Libc.closeQuietly(fd);
                return rc;
            }
            return fd;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Accepts a connection on listening socket {@code fd}: the new socket (non-blocking, close-on-exec), or
     * {@code -errno} ({@code -EAGAIN}: none waiting).
     */
    public static int accept(int fd, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.ACCEPT4.invokeExact(callState, fd, MemorySegment.NULL,
                    MemorySegment.NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), callState);
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
