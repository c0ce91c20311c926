package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** CapsuleCmd (hlen 72): the 64-byte SQE at offset 8; in-capsule data, if any, at PDO. */
public final class CapsuleCmdPdu extends TcpPdu {
    public static final int SQE_OFFSET = 8;
    public static final int SQE_LENGTH = 64;

    @Override
    public CapsuleCmdPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** Offset of the SQE in {@link #segment()}; read it with the io.keel.nvme.spec flyweights. */
    public long sqeOffset() {
        return offset + SQE_OFFSET;
    }

    /** A slice over the SQE (allocates the slice object; prefer {@link #sqeOffset()} on hot paths). */
    public MemorySegment sqe() {
        return segment.asSlice(offset + SQE_OFFSET, SQE_LENGTH);
    }

    /** Command identifier, bytes 2..3 of the SQE (for error reporting; the SQE itself is spec's). */
    public int commandId() {
        return Wire.u16(segment, offset + SQE_OFFSET + 2);
    }
}
