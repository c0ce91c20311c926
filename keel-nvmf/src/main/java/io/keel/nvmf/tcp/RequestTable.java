package io.keel.nvmf.tcp;

import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;

/**
 * The per-queue part of a connection: {@code entries} requests, each with its SQE copy and an in-capsule buffer
 * of {@code inCapsuleDataSize} bytes, in one block of the poll group's {@link QueueMemory}. A connection starts
 * with a one-entry table (enough for its Connect) and takes one sized from the SQSIZE of its Connect; each goes
 * back to the pool when the connection has ended and no request of it is in use. The request objects are kept
 * with the block, so a table of the same shape taken again allocates nothing. Owner thread only.
 */
final class RequestTable {
    final QueueMemory.Block block;
    final int inCapsuleDataSize;
    final TcpRequest[] requests;
    final int[] freeStack;
    final int[] pending;
    private final QueueMemory memory;

    private RequestTable(QueueMemory memory, QueueMemory.Block block, int entries, int inCapsuleDataSize) {
        this.memory = memory;
        this.block = block;
        this.inCapsuleDataSize = inCapsuleDataSize;
        this.requests = new TcpRequest[entries];
        this.freeStack = new int[entries];
        this.pending = new int[entries];
        MemorySegment m = block.segment;
        long icdBase = (long) entries * Sqe.SIZE;
        for (int i = 0; i < entries; i++) {
            MemorySegment icd = inCapsuleDataSize == 0 ? null
                    : m.asSlice(icdBase + (long) i * inCapsuleDataSize, inCapsuleDataSize);
            requests[i] = new TcpRequest(i, m.asSlice((long) i * Sqe.SIZE, Sqe.SIZE), icd);
        }
    }

    /** Bytes a table of this shape takes. */
    static long bytes(int entries, int inCapsuleDataSize) {
        return (long) entries * (Sqe.SIZE + inCapsuleDataSize);
    }

    /** A table from {@code memory}, or null when its limit leaves no room. */
    static RequestTable take(QueueMemory memory, int entries, int inCapsuleDataSize) {
        QueueMemory.Block b = memory.take(bytes(entries, inCapsuleDataSize));
        if (b == null) {
            return null;
        }
        if (b.attachment instanceof RequestTable t && t.memory == memory && t.requests.length == entries
                && t.inCapsuleDataSize == inCapsuleDataSize) {
            return t;
        }
        RequestTable t = new RequestTable(memory, b, entries, inCapsuleDataSize);
        b.attachment = t;
        return t;
    }

    int entries() {
        return requests.length;
    }

    /** Binds every request to {@code c} and fills the free stack (all requests free). */
    void attach(TcpQpairConnection c) {
        int n = requests.length;
        for (int i = 0; i < n; i++) {
            requests[i].attach(c);
            freeStack[n - 1 - i] = i;
        }
    }

    /** Back to the pool (every request free). */
    void release() {
        for (TcpRequest r : requests) {
            r.attach(null);
        }
        memory.give(block);
    }
}
