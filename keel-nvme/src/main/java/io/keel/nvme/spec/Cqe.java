package io.keel.nvme.spec;

/**
 * The 16-byte completion queue entry (NVMe Base 2.0 figure 90): DW0 (command specific) at 0, DW1 at
 * 4, SQHD u16 at 8, SQID u16 at 10, CID u16 at 12, status field u16 at 14 — phase tag bit 0, SC
 * bits 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15 (see {@link Status}).
 */
public final class Cqe extends Flyweight<Cqe> {
    public static final int SIZE = 16;

    @Override
    public int size() {
        return SIZE;
    }

    public int dw0() {
        return u32(0);
    }

    public Cqe dw0(int v) {
        u32(0, v);
        return this;
    }

    public int dw1() {
        return u32(4);
    }

    public Cqe dw1(int v) {
        u32(4, v);
        return this;
    }

    /** DW1:DW0 as one 64-bit value (Property Get of an 8-byte property). */
    public long dw01() {
        return u64(0);
    }

    public Cqe dw01(long v) {
        u64(0, v);
        return this;
    }

    public int sqhd() {
        return u16(8);
    }

    public Cqe sqhd(int v) {
        u16(8, v);
        return this;
    }

    public int sqid() {
        return u16(10);
    }

    public Cqe sqid(int v) {
        u16(10, v);
        return this;
    }

    public int cid() {
        return u16(12);
    }

    public Cqe cid(int v) {
        u16(12, v);
        return this;
    }

    /** The whole 16-bit status field including the phase tag. */
    public int statusField() {
        return u16(14);
    }

    public Cqe statusField(int v) {
        u16(14, v);
        return this;
    }

    public boolean phase() {
        return (u16(14) & 1) != 0;
    }

    public Cqe phase(boolean v) {
        u16(14, (u16(14) & ~1) | (v ? 1 : 0));
        return this;
    }

    public int sc() {
        return (u16(14) >>> 1) & 0xFF;
    }

    public int sct() {
        return (u16(14) >>> 9) & 0x7;
    }

    /** Command retry delay index. */
    public int crd() {
        return (u16(14) >>> 12) & 0x3;
    }

    /** More information in the Error Information log page. */
    public boolean more() {
        return (u16(14) & 1 << 14) != 0;
    }

    public boolean dnr() {
        return (u16(14) & 1 << 15) != 0;
    }

    /** {@code SCT << 8 | SC}, comparable with the {@link Status} constants. */
    public int statusCode() {
        return Status.codeOf(u16(14));
    }

    public boolean success() {
        return (u16(14) & 0xFFFE) == 0;
    }

    /** Sets SC/SCT/CRD/M/DNR, keeping the phase tag. */
    public Cqe status(int sct, int sc, int crd, boolean more, boolean dnr) {
        u16(14, (u16(14) & 1) | Status.field(sct, sc, crd, more, dnr));
        return this;
    }

    /** Sets the status from a {@link Status} code, keeping the phase tag. */
    public Cqe status(int code, boolean dnr) {
        u16(14, (u16(14) & 1) | Status.field(code, dnr));
        return this;
    }

    /** Connect response on success: the controller ID in DW0 bits 15:0. */
    public int connectCntlid() {
        return u16(0);
    }

    public Cqe connectCntlid(int v) {
        u16(0, v);
        return this;
    }

    /**
     * Connect response with Connect Invalid Parameters: IATTR (byte 0, bit 0 = 1 for the data, 0 for
     * the command) and IPO (bytes 3:2, byte offset of the invalid parameter).
     */
    public Cqe connectInvalidParameter(boolean inData, int ipo) {
        u32(0, (inData ? 1 : 0) | (ipo & 0xFFFF) << 16);
        return this;
    }

    public int connectIattr() {
        return u8(0);
    }

    public int connectIpo() {
        return u16(2);
    }
}
