package io.keel.vhost.user;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Sends the back end's replies (and, for GET_INFLIGHT_FD, one fd) on the connection's socket through a
 * {@link MessageWriter}: the payload is written into {@link #message()} first.
 */
final class ReplyWriter {
    private final MessageWriter writer;

    ReplyWriter(SegmentAllocator arena) {
        writer = new MessageWriter(arena);
    }

    VhostUserMessage message() {
        return writer.message();
    }

    /** Sends a reply to {@code request}: {@code size} payload bytes and {@code fd} (-1: none). Null or the error. */
    String send(int socket, int request, int size, int fd, MemorySegment callState) {
        writer.message().replyHeader(request, size);
        if (fd >= 0) {
            writer.fd(0, fd);
        }
        return writer.send(socket, fd >= 0 ? 1 : 0, callState);
    }
}
