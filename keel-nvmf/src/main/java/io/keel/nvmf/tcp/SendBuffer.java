package io.keel.nvmf.tcp;

import io.keel.core.sys.GatherSend;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The bytes a connection has produced and the socket has not taken yet, in order: PDU headers and small PDUs
 * encoded in place into one off-heap buffer ({@link #claim}/{@link #commit}), and data buffers appended by
 * reference ({@link #appendReference}: a read's data goes to the socket from where the bdev put it, no copy).
 * {@link #flush} writes what waits with one gathering send (the inline bytes and the referenced buffers between
 * them as the pieces of a {@link GatherSend}: raw addresses, no NIO views); a referenced buffer goes back to its
 * owner once the socket took all of it. Drained inline bytes are reclaimed by moving the unsent tail to the front;
 * the buffer doubles only when one poll's output does not fit (the owner stops reading from a socket whose output
 * backs up, see {@link #backlogged()}). Nothing is allocated per PDU once warm: the reference slots are reused.
 * The inline bytes live in a block of the poll group's {@link QueueMemory}, given back (and the next bigger one
 * taken) when it grows and when the connection {@linkplain #close closes}. Owner thread only.
 */
final class SendBuffer implements PduSink {
    /** Reference slots to start with; they double, so their count stays a power of two (indexes wrap by a mask). */
    private static final int INITIAL_REFERENCES = 4;

    /** How the pieces of one flush reach the socket: the bytes taken (0: none now). */
    @FunctionalInterface
    interface Sender {
        long send(GatherSend pieces) throws IOException;
    }

    /** A data buffer queued by reference, to be written when the inline bytes before {@link #at} are. */
    private static final class Reference {
        long at;
        MemorySegment data;
        BufferProvider owner;
        /** The address of the first byte not yet written, and how many are left. */
        long address;
        long left;
    }

    private final QueueMemory memory;
    private QueueMemory.Block block;
    private MemorySegment seg;
    /** Inline bytes [sent, end) are committed and not yet written. */
    private int sent;
    private int end;
    private Reference[] refs = newReferences(INITIAL_REFERENCES);
    private int refHead;
    private int refCount;
    private long referencedBytes;
    private final int backlogLimit;
    private final Runnable committed;

    /**
     * @param block     the inline buffer to start with (a socket block of {@code memory}); this buffer owns it now
     * @param committed runs after every {@link #commit} and {@link #appendReference} (the owner schedules a flush)
     */
    SendBuffer(QueueMemory memory, QueueMemory.Block block, int backlogLimit, Runnable committed) {
        this.memory = memory;
        this.block = block;
        this.seg = block.segment;
        this.backlogLimit = backlogLimit;
        this.committed = committed;
    }

    @Override
    public long claim(int length) {
        if (end + length > seg.byteSize()) {
            compact();
            if (end + length > seg.byteSize()) {
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
        if (!data.isNative()) {
            PduSink.super.appendReference(data, owner); // no address to send from: copy it
            return;
        }
        if (refCount == refs.length) {
            growReferences();
        }
        Reference r = refs[(refHead + refCount++) & (refs.length - 1)];
        r.at = end;
        r.data = data;
        r.owner = owner;
        r.address = data.address();
        r.left = data.byteSize();
        referencedBytes += r.left;
        committed.run();
    }

    /** Data buffers queued by reference and not yet written. */
    int references() {
        return refCount;
    }

    /** Bytes waiting for the socket. */
    long pending() {
        return end - sent + referencedBytes;
    }

    /** Whether so much waits that the owner should stop reading new commands from this connection. */
    boolean backlogged() {
        return pending() > backlogLimit;
    }

    /**
     * Writes what the socket takes now, as one gathering send of as much of the stream as {@code pieces} holds (a
     * prefix of it is always a whole send); answers the bytes still waiting.
     */
    long flush(GatherSend pieces, Sender sender) throws IOException {
        if (pending() == 0) {
            return 0;
        }
        pieces.clear();
        long base = seg.address();
        long pos = sent;
        int i = 0;
        for (; i < refCount && pieces.room() >= 2; i++) {
            Reference r = refs[(refHead + i) & (refs.length - 1)];
            if (r.at > pos) {
                pieces.add(base + pos, r.at - pos);
                pos = r.at;
            }
            pieces.add(r.address, r.left);
        }
        if (i == refCount && end > pos && pieces.room() >= 1) {
            pieces.add(base + pos, end - pos);
        }
        consume(sender.send(pieces));
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
            long step = Math.min(n, r.left);
            n -= step;
            r.address += step;
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
        refHead = (refHead + 1) & (refs.length - 1);
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

    private void compact() {
        if (sent == 0) {
            return;
        }
        MemorySegment.copy(seg, sent, seg, 0, end - sent);
        for (int i = 0; i < refCount; i++) {
            refs[(refHead + i) & (refs.length - 1)].at -= sent;
        }
        end -= sent;
        sent = 0;
    }

    private void grow(int needed) {
        long capacity = seg.byteSize();
        while (capacity < needed) {
            capacity *= 2;
        }
        // past the limit too: a PDU half encoded cannot be refused; back-pressure bounds how far this goes
        QueueMemory.Block bigger = memory.take(capacity, true);
        MemorySegment.copy(seg, 0, bigger.segment, 0, end);
        memory.give(block);
        block = bigger;
        seg = bigger.segment;
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
            Reference old = refs[(refHead + i) & (refs.length - 1)];
            Reference r = bigger[i];
            r.at = old.at;
            r.data = old.data;
            r.owner = old.owner;
            r.address = old.address;
            r.left = old.left;
        }
        refs = bigger;
        refHead = 0;
    }

    private static Reference[] newReferences(int n) {
        Reference[] r = new Reference[n];
        for (int i = 0; i < n; i++) {
            r[i] = new Reference();
        }
        return r;
    }
}
