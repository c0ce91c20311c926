package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** R2T (controller to host, hlen 24): {CCCID u16 @8, TTAG u16 @10, R2TO u32 @12, R2TL u32 @16}. */
public final class R2TPdu extends TcpPdu {
    public static final int CCCID_OFFSET = 8;
    public static final int TTAG_OFFSET = 10;
    public static final int R2TO_OFFSET = 12;
    public static final int R2TL_OFFSET = 16;

    @Override
    public R2TPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    public int cccid() {
        return Wire.u16(segment, offset + CCCID_OFFSET);
    }

    public R2TPdu cccid(int v) {
        Wire.u16(segment, offset + CCCID_OFFSET, v);
        return this;
    }

    public int ttag() {
        return Wire.u16(segment, offset + TTAG_OFFSET);
    }

    public R2TPdu ttag(int v) {
        Wire.u16(segment, offset + TTAG_OFFSET, v);
        return this;
    }

    /** Requested data offset within the command's data. */
    public long r2to() {
        return Wire.u32(segment, offset + R2TO_OFFSET);
    }

    public R2TPdu r2to(long v) {
        Wire.u32(segment, offset + R2TO_OFFSET, v);
        return this;
    }

    /** Requested data length. */
    public long r2tl() {
        return Wire.u32(segment, offset + R2TL_OFFSET);
    }

    public R2TPdu r2tl(long v) {
        Wire.u32(segment, offset + R2TL_OFFSET, v);
        return this;
    }
}
