package io.keel.nvmf.tcp;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/**
 * The bytes a connection has produced and the socket has not taken yet, in order: PDU headers and small PDUs
 * encoded in place into one off-heap buffer ({@link #claim}/{@link #commit}), and data buffers appended by
 * reference ({@link #appendReference}: a read's data goes to the socket from where the bdev put it, no copy).
 * {@link #flush} writes everything with one gathering write; a referenced buffer goes back to its owner once the
 * socket took all of it. Drained inline bytes are reclaimed by moving the unsent tail to the front; the buffer
 * doubles only when one poll's output does not fit (the owner stops reading from a socket whose output backs
 * up, see {@link #backlogged()}). Nothing is allocated per PDU once warm: the gather array, the inline windows
 * and the reference slots are reused, and the data buffers' NIO views come from their owner. The inline bytes
 * live in a block of the poll group's {@link QueueMemory}, given back (and the next bigger one taken) when it
 * grows and when the connection {@linkplain #close closes}. Owner thread only.
 */
final class SendBuffer implements PduSink {
    private static final int INITIAL_REFERENCES = 4;

    /** A data buffer queued by reference, to be written when the inline bytes before {@link #at} are. */
    private static final class Reference {
        long at;
        MemorySegment data;
        ByteBuffer view;
        BufferProvider owner;
        /** Bytes of this reference not yet accounted as written. */
        long left;
    }

    private final QueueMemory memory;
    private QueueMemory.Block block;
    private ByteBuffer buf;
    private MemorySegment seg;
    /** Inline bytes [sent, end) are committed and not yet written. */
    private int sent;
    private int end;
    private Reference[] refs = newReferences(INITIAL_REFERENCES);
    private int refHead;
    private int refCount;
    private long referencedBytes;
    private ByteBuffer[] windows;
    private ByteBuffer[] gather;
    private final int backlogLimit;
    private final Runnable committed;

    /**
     * @param block     the inline buffer to start with (a socket block of {@code memory}); this buffer owns it now
     * @param committed runs after every {@link #commit} and {@link #appendReference} (the owner schedules a flush)
     */
    SendBuffer(QueueMemory memory, QueueMemory.Block block, int backlogLimit, Runnable committed) {
        this.memory = memory;
        this.block = block;
        this.buf = block.socketBuffer;
        this.seg = block.segment;
        this.backlogLimit = backlogLimit;
        this.committed = committed;
        sizeWindows();
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

    @Override
    public void appendReference(MemorySegment data, BufferProvider owner) {
        ByteBuffer v = owner.nioView(data);
        if (v == null) {
            PduSink.super.appendReference(data, owner); // no plain NIO view of this memory: copy it
            return;
        }
        if (refCount == refs.length) {
            growReferences();
        }
        Reference r = refs[(refHead + refCount++) % refs.length];
        r.at = end;
        r.data = data;
        r.view = v;
        r.owner = owner;
        r.left = data.byteSize();
        referencedBytes += r.left;
        committed.run();
    }

    /** Bytes waiting for the socket. */
    long pending() {
        return end - sent + referencedBytes;
    }

    /** Whether so much waits that the owner should stop reading new commands from this connection. */
    boolean backlogged() {
        return pending() > backlogLimit;
    }

    /** Writes what the socket takes now (one gathering write); answers the bytes still waiting. */
    long flush(GatheringByteChannel socket) throws IOException {
        if (pending() == 0) {
            return 0;
        }
        int k = 0;
        long pos = sent;
        for (int i = 0; i < refCount; i++) {
            Reference r = refs[(refHead + i) % refs.length];
            if (r.at > pos) {
                gather[k++] = window(i, pos, r.at);
                pos = r.at;
            }
            gather[k++] = r.view;
        }
        if (end > pos) {
            gather[k++] = window(refCount, pos, end);
        }
        long n = socket.write(gather, 0, k);
        for (int i = 0; i < k; i++) {
            gather[i] = null;
        }
        consume(n);
        return pending();
    }

    /** Advances past {@code n} written bytes, giving referenced buffers back once fully written. */
    private void consume(long n) {
        while (n > 0) {
            Reference r = refCount > 0 ? refs[refHead] : null;
            long inlineBefore = (r != null ? r.at : end) - sent;
            if (inlineBefore > 0) {
                long step = Math.min(n, inlineBefore);
                sent += (int) step;
                n -= step;
                continue;
            }
            long step = Math.min(n, r.left); // (the write already moved the view's position)
            n -= step;
            r.left -= step;
            referencedBytes -= step;
            if (r.left == 0) {
                release(r);
            }
        }
        if (refCount == 0 && sent == end) {
            sent = 0;
            end = 0;
        }
    }

    private void release(Reference r) {
        MemorySegment data = r.data;
        BufferProvider owner = r.owner;
        r.data = null;
        r.owner = null;
        r.view = null;
        refHead = (refHead + 1) % refs.length;
        refCount--;
        owner.release(data);
    }

    /** Gives every referenced buffer back unsent (the connection is closing). */
    void discard() {
        while (refCount > 0) {
            Reference r = refs[refHead];
            referencedBytes -= r.left;
            release(r);
        }
        sent = 0;
        end = 0;
    }

    private ByteBuffer window(int index, long from, long to) {
        ByteBuffer w = windows[index];
        w.clear();
        w.limit((int) to).position((int) from);
        return w;
    }

    private void compact() {
        if (sent == 0) {
            return;
        }
        MemorySegment.copy(seg, sent, seg, 0, end - sent);
        for (int i = 0; i < refCount; i++) {
            refs[(refHead + i) % refs.length].at -= sent;
        }
        end -= sent;
        sent = 0;
    }

    private void grow(int needed) {
        int capacity = buf.capacity();
        while (capacity < needed) {
            capacity *= 2;
        }
        // past the limit too: a PDU half encoded cannot be refused; back-pressure bounds how far this goes
        QueueMemory.Block bigger = memory.takeForSocket(capacity, true);
        MemorySegment.copy(seg, 0, bigger.segment, 0, end);
        memory.give(block);
        block = bigger;
        buf = bigger.socketBuffer;
        seg = bigger.segment;
        sizeWindows();
    }

    /** Gives the inline buffer back to the pool (after {@link #discard}); the buffer is unusable after. */
    void close() {
        if (block != null) {
            memory.give(block);
            block = null;
        }
    }

    private void growReferences() {
        Reference[] bigger = newReferences(refs.length * 2);
        for (int i = 0; i < refCount; i++) {
            Reference old = refs[(refHead + i) % refs.length];
            Reference r = bigger[i];
            r.at = old.at;
            r.data = old.data;
            r.view = old.view;
            r.owner = old.owner;
            r.left = old.left;
        }
        refs = bigger;
        refHead = 0;
        sizeWindows();
    }

    /** One inline window per gap between references, and a gather array for all of them. */
    private void sizeWindows() {
        windows = new ByteBuffer[refs.length + 1];
        for (int i = 0; i < windows.length; i++) {
            windows[i] = buf.duplicate();
        }
        gather = new ByteBuffer[2 * refs.length + 1];
    }

    private static Reference[] newReferences(int n) {
        Reference[] r = new Reference[n];
        for (int i = 0; i < n; i++) {
            r[i] = new Reference();
        }
        return r;
    }
}
