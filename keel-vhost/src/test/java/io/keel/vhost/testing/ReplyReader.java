package io.keel.vhost.testing;

import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The front end's side of reading the back end's replies, without waiting: each {@link #read} takes what has arrived
 * and says whether a whole reply is there. A reply arrives in any split; the fd that came with it (GET_INFLIGHT_FD) is
 * kept with it. Shared by the blocking {@link FakeFrontEnd} and the simulated front end.
 */
public final class ReplyReader {
    /** What a {@link #read} found. */
    public enum Read { REPLY, AGAIN, CLOSED }

    private final FdMessage in;
    private final MemorySegment callState;
    private MemorySegment msg = newBuffer();
    private int have;
    private int fd = -1;
    private FakeFrontEnd.Reply reply;

    public ReplyReader(Arena arena) {
        this.in = new FdMessage(arena, 12 + 4096, 1);
        this.callState = Libc.callState(arena);
    }

    // each reply keeps a buffer of its own, so a test may hold one while it reads the next
    private static MemorySegment newBuffer() {
        return Arena.ofAuto().allocate(12 + 4096);
    }

    /**
     * Reads from {@code socket} (non-blocking) until a whole reply is there ({@link Read#REPLY}: {@link #reply()}),
     * nothing more is ({@link Read#AGAIN}), or the back end closed the connection ({@link Read#CLOSED}).
     */
    public Read read(int socket) {
        while (have < 12 || have < 12 + size()) {
            int want = have < 12 ? 12 - have : 12 + size() - have;
            in.prepareReceive(want);
            long n = UnixSocket.recvmsg(socket, in, 0, callState);
            if (n == -Libc.EAGAIN) {
                return Read.AGAIN;
            }
            if (n <= 0) {
                return Read.CLOSED;
            }
            if (in.fdCount() > 0) {
                fd = in.fd(0);
            }
            MemorySegment.copy(in.data(), 0, msg, have, n);
            have += (int) n;
        }
        int size = size();
        reply = new FakeFrontEnd.Reply(msg.get(ValueLayout.JAVA_INT_UNALIGNED, 0),
                msg.get(ValueLayout.JAVA_INT_UNALIGNED, 4), size, msg.asSlice(12, size), fd);
        msg = newBuffer();
        have = 0;
        fd = -1;
        return Read.REPLY;
    }

    private int size() {
        return msg.get(ValueLayout.JAVA_INT_UNALIGNED, 8);
    }

    /** The reply the last {@link #read} completed. */
    public FakeFrontEnd.Reply reply() {
        return reply;
    }
}
