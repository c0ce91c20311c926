package io.keel.nvme.spec;

/**
 * One 64-byte Error Information log entry (LID 01h, NVMe Base 2.0 figure 205): error count u64 at
 * 0, SQID u16 at 8, CID u16 at 10, status field u16 at 12 (bit 0 phase tag, bits 15:1 status as in
 * the CQE), parameter error location u16 at 14, LBA u64 at 16, NSID u32 at 24, vendor specific
 * information available at 28, transport type at 29, command specific information u64 at 32,
 * transport type specific information u16 at 40.
 */
public final class ErrorLogEntry extends Flyweight<ErrorLogEntry> {
    public static final int SIZE = 64;

    @Override
    public int size() {
        return SIZE;
    }

    /** Wraps entry {@code index} of a log page buffer. */
    public ErrorLogEntry wrapEntry(java.lang.foreign.MemorySegment page, int index) {
        return wrap(page, (long) index * SIZE);
    }

    public long errorCount() {
        return u64(0);
    }

    public ErrorLogEntry errorCount(long v) {
        u64(0, v);
        return this;
    }

    public int sqid() {
        return u16(8);
    }

    public ErrorLogEntry sqid(int v) {
        u16(8, v);
        return this;
    }

    public int cid() {
        return u16(10);
    }

    public ErrorLogEntry cid(int v) {
        u16(10, v);
        return this;
    }

    public int statusField() {
        return u16(12);
    }

    public ErrorLogEntry statusField(int v) {
        u16(12, v);
        return this;
    }

    /** Parameter error location: byte in bits 7:0, bit in bits 10:8. */
    public int parameterErrorLocation() {
        return u16(14);
    }

    public ErrorLogEntry parameterErrorLocation(int byteOffset, int bit) {
        u16(14, (byteOffset & 0xFF) | (bit & 0x7) << 8);
        return this;
    }

    public long lba() {
        return u64(16);
    }

    public ErrorLogEntry lba(long v) {
        u64(16, v);
        return this;
    }

    public int nsid() {
        return u32(24);
    }

    public ErrorLogEntry nsid(int v) {
        u32(24, v);
        return this;
    }

    public int vendorSpecificInfoAvailable() {
        return u8(28);
    }

    public int transportType() {
        return u8(29);
    }

    public ErrorLogEntry transportType(int v) {
        u8(29, v);
        return this;
    }

    public long commandSpecificInfo() {
        return u64(32);
    }

    public ErrorLogEntry commandSpecificInfo(long v) {
        u64(32, v);
        return this;
    }

    public int transportTypeSpecificInfo() {
        return u16(40);
    }

    public ErrorLogEntry transportTypeSpecificInfo(int v) {
        u16(40, v);
        return this;
    }
}
