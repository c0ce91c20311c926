package io.keel.vhost.user;

import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Sends replies (and, for GET_INFLIGHT_FD, one fd) on the connection's socket: the payload is written into
 * {@link #message()} first. A reply is sent whole or the connection is given up: the front end waits for each reply
 * before it sends on, so a socket buffer that cannot take a few hundred bytes means the peer is gone or broken.
 */
final class ReplyWriter {
    private final FdMessage out;
    private final VhostUserMessage message;

    ReplyWriter(Arena arena) {
        out = new FdMessage(arena, VhostUserMessage.HEADER_BYTES + VhostUserMessage.MAX_PAYLOAD_BYTES, 1);
        message = new VhostUserMessage(out.data());
    }

    VhostUserMessage message() {
        return message;
    }

    /** Sends a reply to {@code request}: {@code size} payload bytes and {@code fd} (-1: none). Null or the error. */
    String send(int socket, int request, int size, int fd, MemorySegment callState) {
        message.replyHeader(request, size);
        if (fd >= 0) {
            out.fd(0, fd);
        }
        int length = VhostUserMessage.HEADER_BYTES + size;
        out.prepareSend(length, fd >= 0 ? 1 : 0);
        long n;
        do {
            n = UnixSocket.sendmsg(socket, out, UnixSocket.MSG_DONTWAIT, callState);
        } while (n == -Libc.EINTR);
        if (n == length) {
            return null;
        }
        return n < 0 ? "sendmsg: " + Libc.strerror((int) -n) : "the socket took " + n + " of " + length + " bytes";
    }
}
