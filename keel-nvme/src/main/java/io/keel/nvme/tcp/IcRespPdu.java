package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** ICResp (controller to host, 128 bytes): {PFV u16 @8, CPDA u8 @10, DGST u8 @11, MAXH2CDATA u32 @12}. */
public final class IcRespPdu extends TcpPdu {
    public static final int PFV_OFFSET = 8;
    public static final int CPDA_OFFSET = 10;
    public static final int DGST_OFFSET = 11;
    public static final int MAXH2CDATA_OFFSET = 12;
    /** The smallest MAXH2CDATA a controller may announce. */
    public static final int MIN_MAXH2CDATA = 4096;

    @Override
    public IcRespPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    public int pfv() {
        return Wire.u16(segment, offset + PFV_OFFSET);
    }

    public IcRespPdu pfv(int v) {
        Wire.u16(segment, offset + PFV_OFFSET, v);
        return this;
    }

    /** Controller PDU data alignment, 0's based in dwords (0..31): H2C data sits at a multiple of (CPDA+1)*4. */
    public int cpda() {
        return Wire.u8(segment, offset + CPDA_OFFSET);
    }

    public IcRespPdu cpda(int v) {
        Wire.u8(segment, offset + CPDA_OFFSET, v);
        return this;
    }

    public int dgst() {
        return Wire.u8(segment, offset + DGST_OFFSET);
    }

    public IcRespPdu dgst(int v) {
        Wire.u8(segment, offset + DGST_OFFSET, v);
        return this;
    }

    public boolean headerDigestEnable() {
        return (dgst() & IcReqPdu.DGST_HDGST_ENABLE) != 0;
    }

    public boolean dataDigestEnable() {
        return (dgst() & IcReqPdu.DGST_DDGST_ENABLE) != 0;
    }

    /** Maximum data bytes in one H2CData PDU. */
    public long maxh2cdata() {
        return Wire.u32(segment, offset + MAXH2CDATA_OFFSET);
    }

    public IcRespPdu maxh2cdata(long v) {
        Wire.u32(segment, offset + MAXH2CDATA_OFFSET, v);
        return this;
    }
}
