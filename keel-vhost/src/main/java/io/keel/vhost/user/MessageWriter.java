package io.keel.vhost.user;

import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Sends vhost-user messages (a request of the front end, a reply of the back end) on a non-blocking Unix socket, with
 * up to {@link VhostUserMessage#MAX_FDS} fds: the header and payload are written into {@link #message()} first. A
 * message is sent whole or the connection is given up: each side waits for the other's answer before it sends on, so
 * a socket buffer that cannot take a few hundred bytes means the peer is gone or broken. Memory is fixed at
 * construction (rule R10). Owner thread only.
 */
public final class MessageWriter {
    private final FdMessage out;
    private final VhostUserMessage message;

    public MessageWriter(SegmentAllocator arena) {
        out = new FdMessage(arena, VhostUserMessage.HEADER_BYTES + VhostUserMessage.MAX_PAYLOAD_BYTES,
                VhostUserMessage.MAX_FDS);
        message = new VhostUserMessage(out.data());
    }

    public VhostUserMessage message() {
        return message;
    }

    /** Sets passed fd {@code i} of the next message. */
    public void fd(int i, int fd) {
        out.fd(i, fd);
    }

    /**
     * Sends the message in {@link #message()} (its header says how big the payload is) with the first {@code fdCount}
     * fds set by {@link #fd}: null, or what went wrong.
     */
    public String send(int socket, int fdCount, MemorySegment callState) {
        int length = VhostUserMessage.HEADER_BYTES + message.size();
        out.prepareSend(length, fdCount);
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
