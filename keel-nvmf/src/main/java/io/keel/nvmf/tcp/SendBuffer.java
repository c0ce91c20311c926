package io.keel.nvmf.tcp;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The PDUs a connection has encoded and the socket has not taken yet: one off-heap buffer written from the
 * front ({@link #claim}/{@link #commit}) and drained to the socket by {@link #flush} (one write call per flush,
 * so everything produced during a poll leaves in one syscall). Drained bytes are reclaimed by moving the unsent
 * tail to the front; the buffer doubles only when one poll's output does not fit (rare: the owner stops
 * reading from a socket whose output backs up, see {@link #backlogged()}). Owner thread only.
 */
final class SendBuffer implements PduSink {
    private ByteBuffer buf;
    private MemorySegment seg;
    /** Bytes [sent, end) are committed and not yet written. */
    private int sent;
    private int end;
    private final int backlogLimit;
    private final Runnable committed;

    /** @param committed runs after every {@link #commit} (the owner schedules a flush) */
    SendBuffer(int initialCapacity, int backlogLimit, Runnable committed) {
        this.buf = ByteBuffer.allocateDirect(initialCapacity);
        this.seg = MemorySegment.ofBuffer(buf);
        this.backlogLimit = backlogLimit;
        this.committed = committed;
    }

    @Override
    public long claim(int length) {
        if (end + length > buf.capacity()) {
            compact();
            if (end + length > buf.capacity()) {
                grow(end + length);
            }
        }
        return end;
    }

    @Override
    public MemorySegment buffer() {
        return seg;
    }

    @Override
    public void commit(long offset, int length) {
        end = (int) offset + length;
        committed.run();
    }

    /** Bytes waiting for the socket. */
    int pending() {
        return end - sent;
    }

    /** Whether so much waits that the owner should stop reading new commands from this connection. */
    boolean backlogged() {
        return pending() > backlogLimit;
    }

    /** Writes what the socket takes now; answers the bytes still waiting. */
    int flush(WritableByteChannel socket) throws IOException {
        if (end == sent) {
            return 0;
        }
        buf.limit(end).position(sent);
        sent += socket.write(buf);
        if (sent == end) {
            sent = 0;
            end = 0;
        }
        return end - sent;
    }

    private void compact() {
        if (sent == 0) {
            return;
        }
        MemorySegment.copy(seg, sent, seg, 0, end - sent);
        end -= sent;
        sent = 0;
    }

    private void grow(int needed) {
        int capacity = buf.capacity();
        while (capacity < needed) {
            capacity *= 2;
        }
        ByteBuffer bigger = ByteBuffer.allocateDirect(capacity);
        MemorySegment s = MemorySegment.ofBuffer(bigger);
        MemorySegment.copy(seg, 0, s, 0, end);
        buf = bigger;
        seg = s;
    }
}
