package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/**
 * H2CTermReq / C2HTermReq (hlen 24): {FES u16 @8, FEI u32 @10}; the data section (at hlen, no digests)
 * holds up to 128 bytes of the offending PDU header.
 */
public final class TermReqPdu extends TcpPdu {
    public static final int FES_OFFSET = 8;
    public static final int FEI_OFFSET = 10;

    @Override
    public TermReqPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** Fatal error status, see {@link Fes}. */
    public int fes() {
        return Wire.u16(segment, offset + FES_OFFSET);
    }

    public TermReqPdu fes(int v) {
        Wire.u16(segment, offset + FES_OFFSET, v);
        return this;
    }

    /** Fatal error information: for an invalid header field, the byte offset of that field. */
    public long fei() {
        return Wire.u32(segment, offset + FEI_OFFSET);
    }

    public TermReqPdu fei(long v) {
        Wire.u32(segment, offset + FEI_OFFSET, v);
        return this;
    }

    /** Length of the copied offending header (plen - hlen). */
    public long errorDataLength() {
        return plen() - hlen();
    }
}
