package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** ICReq (host to controller, 128 bytes): {PFV u16 @8, HPDA u8 @10, DGST u8 @11, MAXR2T u32 @12}. */
public final class IcReqPdu extends TcpPdu {
    public static final int PFV_OFFSET = 8;
    public static final int HPDA_OFFSET = 10;
    public static final int DGST_OFFSET = 11;
    public static final int MAXR2T_OFFSET = 12;
    /** DGST bit: header digest enable. */
    public static final int DGST_HDGST_ENABLE = 0x01;
    /** DGST bit: data digest enable. */
    public static final int DGST_DDGST_ENABLE = 0x02;

    @Override
    public IcReqPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** PDU format version; 0 is the only one defined. */
    public int pfv() {
        return Wire.u16(segment, offset + PFV_OFFSET);
    }

    public IcReqPdu pfv(int v) {
        Wire.u16(segment, offset + PFV_OFFSET, v);
        return this;
    }

    /** Host PDU data alignment, 0's based in dwords (0..31): C2H data sits at a multiple of (HPDA+1)*4. */
    public int hpda() {
        return Wire.u8(segment, offset + HPDA_OFFSET);
    }

    public IcReqPdu hpda(int v) {
        Wire.u8(segment, offset + HPDA_OFFSET, v);
        return this;
    }

    public int dgst() {
        return Wire.u8(segment, offset + DGST_OFFSET);
    }

    public IcReqPdu dgst(int v) {
        Wire.u8(segment, offset + DGST_OFFSET, v);
        return this;
    }

    public boolean headerDigestEnable() {
        return (dgst() & DGST_HDGST_ENABLE) != 0;
    }

    public boolean dataDigestEnable() {
        return (dgst() & DGST_DDGST_ENABLE) != 0;
    }

    /** Maximum outstanding R2Ts per command, 0's based. */
    public long maxr2t() {
        return Wire.u32(segment, offset + MAXR2T_OFFSET);
    }

    public IcReqPdu maxr2t(long v) {
        Wire.u32(segment, offset + MAXR2T_OFFSET, v);
        return this;
    }
}
