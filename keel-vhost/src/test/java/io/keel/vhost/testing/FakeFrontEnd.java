package io.keel.vhost.testing;

import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.vhost.memory.RegionSpec;
import io.keel.vhost.user.MemoryTablePayload;
import io.keel.vhost.user.VhostUserMessage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The front end's (QEMU's) end of a vhost-user socket pair: sends messages with their fds exactly as QEMU does (one
 * sendmsg per message, fds with it, never waiting) and reads replies ({@link ReplyReader}), either waiting a bounded
 * time ({@link #awaitReply}) or, for a simulated front end, as they arrive ({@link #replies()}). One thread at a time.
 */
public final class FakeFrontEnd implements AutoCloseable {
    private static final long WAIT_NANOS = 5_000_000_000L;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment cs = Libc.callState(arena);
    private final FdMessage out = new FdMessage(arena, 12 + 4096, 8);
    private final FdMessage in = new FdMessage(arena, 12 + 4096, 1);
    private final ReplyReader replies = new ReplyReader(arena);
    private final VhostUserMessage outMessage = new VhostUserMessage(out.data());
    private final int[] pair = new int[2];
    private boolean backEndTaken;

    /** A reply as received. */
    public record Reply(int request, int flags, int size, MemorySegment payload, int fd) {
        public long u64() {
            return payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        }
    }

    public FakeFrontEnd() {
        int rc = UnixSocket.socketpair(UnixSocket.SOCK_STREAM | UnixSocket.SOCK_NONBLOCK | UnixSocket.SOCK_CLOEXEC,
                pair, cs);
        if (rc != 0) {
            throw new IllegalStateException("socketpair: " + Libc.strerror(-rc));
        }
    }

    /** A front end connected to the back end listening at {@code path} (a controller's socket). */
    public FakeFrontEnd(String path) {
        int fd = UnixSocket.connect(path, cs);
        if (fd < 0) {
            throw new IllegalStateException("connect " + path + ": " + Libc.strerror(-fd));
        }
        pair[0] = fd;
        pair[1] = -1;
        backEndTaken = true;
    }

    /** The front end's end of the connection: what a simulated front end watches (non-blocking). */
    public int socket() {
        return pair[0];
    }

    /** Reads replies from {@link #socket()} without waiting. */
    public ReplyReader replies() {
        return replies;
    }

    /** The back end's end, for the connection (which owns it from then on). */
    public int backEndSocket() {
        backEndTaken = true;
        return pair[1];
    }

    /** Where to write the next message's payload. */
    public MemorySegment payload() {
        return outMessage.payload();
    }

    /** Sends {@code request} with the {@code size} payload bytes written into {@link #payload()} and {@code fds}. */
    public void send(int request, int flags, int size, int... fds) {
        MemorySegment b = out.data();
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 0, request);
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 4, flags);
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 8, size);
        for (int i = 0; i < fds.length; i++) {
            out.fd(i, fds[i]);
        }
        out.prepareSend(12 + size, fds.length);
        long n = UnixSocket.sendmsg(pair[0], out, 0, cs);
        if (n != 12 + size) {
            throw new IllegalStateException("sendmsg: " + n);
        }
    }

    /** Sends bytes {@code from..to} of the message last prepared in the buffer, without fds (a split message). */
    public void sendPart(int from, int to) {
        FdMessage part = new FdMessage(arena, to - from, 0);
        MemorySegment.copy(out.data(), from, part.data(), 0, to - from);
        part.prepareSend(to - from, 0);
        if (UnixSocket.sendmsg(pair[0], part, 0, cs) != to - from) {
            throw new IllegalStateException("partial send failed");
        }
    }

    /** Writes a header into the buffer without sending (for {@link #sendPart}). */
    public void prepare(int request, int flags, int size) {
        MemorySegment b = out.data();
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 0, request);
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 4, flags);
        b.set(ValueLayout.JAVA_INT_UNALIGNED, 8, size);
    }

    public void sendU64(int request, int flags, long value) {
        payload().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
        send(request, flags, 8);
    }

    public void sendVringState(int request, int flags, int index, int num) {
        payload().set(ValueLayout.JAVA_INT_UNALIGNED, 0, index);
        payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, num);
        send(request, flags, 8);
    }

    public void sendVringAddr(int flags, int index, long desc, long used, long avail) {
        MemorySegment p = payload();
        p.set(ValueLayout.JAVA_INT_UNALIGNED, 0, index);
        p.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, desc);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, used);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, avail);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 32, 0);
        send(9, flags, 40);
    }

    public void sendMemTable(int flags, List<RegionSpec> regions, int... fds) {
        send(5, flags, MemoryTablePayload.write(payload(), regions), fds);
    }

    /** SET_VRING_KICK/CALL/ERR for queue {@code index}: {@code fd}, or -1 for "no fd". */
    public void sendVringFd(int request, int flags, int index, int fd) {
        payload().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, index | (fd < 0 ? 0x100L : 0));
        if (fd < 0) {
            send(request, flags, 8);
        } else {
            send(request, flags, 8, fd);
        }
    }

    /** The next reply, waiting at most 5 s. */
    public Reply awaitReply() {
        Reply r = replyWithin(WAIT_NANOS);
        if (r == null) {
            throw new AssertionError("no reply within 5 s");
        }
        return r;
    }

    /** The next reply if one comes within {@code nanos}, else null. */
    public Reply replyWithin(long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (true) {
            switch (replies.read(pair[0])) {
                case REPLY -> {
                    return replies.reply();
                }
                case CLOSED -> throw new AssertionError("the back end closed the connection");
                case AGAIN -> {
                    if (System.nanoTime() >= deadline) {
                        return null;
                    }
                    sleepBriefly();
                }
            }
        }
    }

    /** Whether the back end closed its end (reading gives end of stream), waiting at most 5 s. */
    public boolean closedByBackEnd() {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            in.prepareReceive(1);
            long n = UnixSocket.recvmsg(pair[0], in, 0, cs);
            if (n == 0) {
                return true;
            }
            sleepBriefly();
        }
        return false;
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Hangs up, as a QEMU that exits. */
    public void hangUp() {
        Libc.closeQuietly(pair[0]);
        pair[0] = -1;
    }

    @Override
    public void close() {
        Libc.closeQuietly(pair[0]);
        if (!backEndTaken) {
            Libc.closeQuietly(pair[1]);
        }
        arena.close();
    }
}
