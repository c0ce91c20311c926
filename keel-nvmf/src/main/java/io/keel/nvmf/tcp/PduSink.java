package io.keel.nvmf.tcp;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link TcpQpairConnection} writes the PDUs it sends. The connection asks for room for one PDU
 * ({@link #claim}), encodes it in place into {@link #buffer()} at the returned offset, and hands it back
 * ({@link #commit}); nothing is allocated per PDU. The sink must always find room (it queues or grows; flow
 * control towards the socket is the owner's business, e.g. by not feeding more received bytes).
 */
public interface PduSink {
    /** Reserves {@code length} bytes and returns their offset in {@link #buffer()}. */
    long claim(int length);

    /** The buffer the last {@link #claim} refers to. */
    MemorySegment buffer();

    /** The PDU at {@code offset} ({@code length} bytes, at most what was claimed) is complete and may be sent. */
    void commit(long offset, int length);

    /**
     * Appends all of {@code data} after what was committed, by reference: the sink sends it from there and gives
     * it back with {@code owner.release(data)} once sent (or dropped). This default copies it and gives it back
     * at once.
     */
    default void appendReference(MemorySegment data, BufferProvider owner) {
        int n = (int) data.byteSize();
        long off = claim(n);
        MemorySegment.copy(data, 0, buffer(), off, n);
        commit(off, n);
        owner.release(data);
    }
}
