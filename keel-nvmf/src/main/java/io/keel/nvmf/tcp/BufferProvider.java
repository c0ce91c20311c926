package io.keel.nvmf.tcp;

import java.lang.foreign.MemorySegment;

/**
 * Data buffers for commands whose data does not come in the capsule (R2T writes, reads); the real target
 * backs this with iobuf. Bounded (DESIGN R6): {@link #acquire} returns null when none is free, the request
 * waits in the connection's pending queue, and the owner calls {@link TcpQpairConnection#retryPending()}
 * when a buffer is released and on idle polls.
 */
public interface BufferProvider {
    /** A buffer of at least {@code length} bytes, or null if none is available now. */
    MemorySegment acquire(long length);

    /** Gives back a buffer returned by {@link #acquire}. */
    void release(MemorySegment buffer);
}
