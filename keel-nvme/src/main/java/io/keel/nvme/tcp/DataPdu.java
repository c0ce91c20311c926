package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** Layout shared by H2CData and C2HData (hlen 24): {CCCID u16 @8, TTAG u16 @10, DATAO u32 @12, DATAL u32 @16}. */
public abstract sealed class DataPdu extends TcpPdu permits H2CDataPdu, C2HDataPdu {
    public static final int CCCID_OFFSET = 8;
    public static final int TTAG_OFFSET = 10;
    public static final int DATAO_OFFSET = 12;
    public static final int DATAL_OFFSET = 16;

    @Override
    public DataPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** Command capsule CID this data belongs to. */
    public final int cccid() {
        return Wire.u16(segment, offset + CCCID_OFFSET);
    }

    public final DataPdu cccid(int v) {
        Wire.u16(segment, offset + CCCID_OFFSET, v);
        return this;
    }

    /** Transfer tag (H2CData: the R2T's TTAG; C2HData: reserved). */
    public final int ttag() {
        return Wire.u16(segment, offset + TTAG_OFFSET);
    }

    public final DataPdu ttag(int v) {
        Wire.u16(segment, offset + TTAG_OFFSET, v);
        return this;
    }

    /** Offset of this PDU's data within the command's data buffer. */
    public final long datao() {
        return Wire.u32(segment, offset + DATAO_OFFSET);
    }

    public final DataPdu datao(long v) {
        Wire.u32(segment, offset + DATAO_OFFSET, v);
        return this;
    }

    /** Data bytes in this PDU. */
    public final long datal() {
        return Wire.u32(segment, offset + DATAL_OFFSET);
    }

    public final DataPdu datal(long v) {
        Wire.u32(segment, offset + DATAL_OFFSET, v);
        return this;
    }

    public final boolean lastPdu() {
        return (flags() & FLAG_LAST_PDU) != 0;
    }
}
