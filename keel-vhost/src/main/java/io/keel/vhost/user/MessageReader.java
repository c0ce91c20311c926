package io.keel.vhost.user;

import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Reads vhost-user messages from a non-blocking Unix stream socket, in any split: the header first, then exactly the
 * payload it announces, so one receive never takes bytes of two messages and the fds that arrive with a message
 * (SCM_RIGHTS) are that message's. A header with a wrong version or a payload over
 * {@link VhostUserMessage#MAX_PAYLOAD_BYTES}, or more fds than {@link VhostUserMessage#MAX_FDS}, is malformed: the
 * stream cannot be trusted after it. Memory is fixed at construction (rule R10). Owner thread only. Both ends use it:
 * the back end for the front end's requests, a front end (the virtio-user initiator) for the replies.
 */
public final class MessageReader {
    public enum Result { MESSAGE, AGAIN, CLOSED, MALFORMED }

    private static final int BUFFER_BYTES = VhostUserMessage.HEADER_BYTES + VhostUserMessage.MAX_PAYLOAD_BYTES;

    private final FdMessage in;
    private final VhostUserMessage message;
    private final int[] fds = new int[VhostUserMessage.MAX_FDS];
    private int fdCount;
    private int have;
    private String problem;

    public MessageReader(SegmentAllocator arena) {
        in = new FdMessage(arena, BUFFER_BYTES, VhostUserMessage.MAX_FDS);
        message = new VhostUserMessage(arena.allocate(BUFFER_BYTES, 8));
    }

    /** The message {@link #read} completed; valid until {@link #finish}. */
    public VhostUserMessage message() {
        return message;
    }

    /** Why the last read answered MALFORMED or CLOSED. */
    public String problem() {
        return problem;
    }

    /** Reads until a message is complete (MESSAGE), the socket has no more (AGAIN), ends, or lies. */
    public Result read(int socket, MemorySegment callState) {
        while (true) {
            int want = have < VhostUserMessage.HEADER_BYTES ? VhostUserMessage.HEADER_BYTES - have
                    : VhostUserMessage.HEADER_BYTES + message.size() - have;
            in.prepareReceive(want);
            long n = UnixSocket.recvmsg(socket, in, UnixSocket.MSG_DONTWAIT, callState);
            if (n == -Libc.EINTR) {
                continue;
            }
            if (n == -Libc.EAGAIN) {
                return Result.AGAIN;
            }
            if (n <= 0) {
                problem = n == 0 ? "the peer closed the connection" : "recvmsg: " + Libc.strerror((int) -n);
                return Result.CLOSED;
            }
            if (!takeFds()) {
                return Result.MALFORMED;
            }
            MemorySegment.copy(in.data(), 0, message.buffer(), have, n);
            have += (int) n;
            if (have == VhostUserMessage.HEADER_BYTES) {
                if ((message.flags() & VhostUserMessage.VERSION_MASK) != VhostUserMessage.VERSION) {
                    problem = VhostUserRequest.name(message.request()) + " with flags 0x"
                            + Integer.toHexString(message.flags()) + ": not protocol version 1";
                    return Result.MALFORMED;
                }
                if (Integer.compareUnsigned(message.size(), VhostUserMessage.MAX_PAYLOAD_BYTES) > 0) {
                    problem = VhostUserRequest.name(message.request()) + " announces a payload of "
                            + Integer.toUnsignedString(message.size()) + " bytes (at most "
                            + VhostUserMessage.MAX_PAYLOAD_BYTES + ")";
                    return Result.MALFORMED;
                }
            }
            if (have == VhostUserMessage.HEADER_BYTES + message.size()) {
                return Result.MESSAGE;
            }
        }
    }

    /** Keeps the fds this receive brought; false (and the extra ones closed) when there were too many. */
    private boolean takeFds() {
        boolean tooMany = (in.flags() & FdMessage.MSG_CTRUNC) != 0; // the kernel closed those it had no room for
        for (int i = 0; i < in.fdCount(); i++) {
            int fd = in.fd(i);
            if (fdCount == fds.length) {
                Libc.closeQuietly(fd);
                tooMany = true;
            } else {
                fds[fdCount++] = fd;
            }
        }
        if (tooMany) {
            problem = "a message passed more than " + fds.length + " fds";
        }
        return !tooMany;
    }

    int fdCount() {
        return fdCount;
    }

    /** Fd {@code i} of the message, still the reader's (closed by {@link #finish}). */
    int fd(int i) {
        return fds[i];
    }

    /** Takes fd {@code i} of the message: the caller owns it now (it is not closed by {@link #finish}). */
    int takeFd(int i) {
        int fd = fds[i];
        fds[i] = -1;
        return fd;
    }

    /** Done with the message: closes the fds nobody took, and starts the next message. */
    public void finish() {
        for (int i = 0; i < fdCount; i++) {
            Libc.closeQuietly(fds[i]);
            fds[i] = -1;
        }
        fdCount = 0;
        have = 0;
        problem = null;
    }
}
