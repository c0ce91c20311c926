package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** CapsuleResp (hlen 24): the 16-byte CQE at offset 8. */
public final class CapsuleRespPdu extends TcpPdu {
    public static final int CQE_OFFSET = 8;
    public static final int CQE_LENGTH = 16;

    @Override
    public CapsuleRespPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** Offset of the CQE in {@link #segment()}; read it with the io.keel.nvme.spec flyweights. */
    public long cqeOffset() {
        return offset + CQE_OFFSET;
    }

    /** A slice over the CQE (allocates the slice object; prefer {@link #cqeOffset()} on hot paths). */
    public MemorySegment cqe() {
        return segment.asSlice(offset + CQE_OFFSET, CQE_LENGTH);
    }

    /** Command identifier, bytes 12..13 of the CQE. */
    public int commandId() {
        return Wire.u16(segment, offset + CQE_OFFSET + 12);
    }
}
