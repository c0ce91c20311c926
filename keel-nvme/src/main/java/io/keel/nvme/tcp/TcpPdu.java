package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over the 8-byte NVMe/TCP common header {type u8, flags u8, hlen u8, pdo u8, plen u32 LE}
 * at {@code offset} in a segment. Subclasses add the type-specific header fields. Re-point with
 * {@link #wrap}; a flyweight holds no data of its own.
 */
public class TcpPdu {
    public static final int TYPE_OFFSET = 0;
    public static final int FLAGS_OFFSET = 1;
    public static final int HLEN_OFFSET = 2;
    public static final int PDO_OFFSET = 3;
    public static final int PLEN_OFFSET = 4;
    public static final int COMMON_HEADER_LENGTH = 8;

    /** Header digest present (CRC32C of the header, 4 bytes LE right after it). */
    public static final int FLAG_HDGSTF = 0x01;
    /** Data digest present (CRC32C of the data, 4 bytes LE right after it). */
    public static final int FLAG_DDGSTF = 0x02;
    /** H2CData / C2HData: last PDU of the transfer. */
    public static final int FLAG_LAST_PDU = 0x04;
    /** C2HData: the command completed successfully, no CapsuleResp follows (needs LAST_PDU). */
    public static final int FLAG_SUCCESS = 0x08;

    protected MemorySegment segment;
    protected long offset;

    public TcpPdu wrap(MemorySegment segment, long offset) {
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    public final MemorySegment segment() {
        return segment;
    }

    public final long offset() {
        return offset;
    }

    public final int type() {
        return Wire.u8(segment, offset + TYPE_OFFSET);
    }

    public final TcpPdu type(int v) {
        Wire.u8(segment, offset + TYPE_OFFSET, v);
        return this;
    }

    public final int flags() {
        return Wire.u8(segment, offset + FLAGS_OFFSET);
    }

    public final TcpPdu flags(int v) {
        Wire.u8(segment, offset + FLAGS_OFFSET, v);
        return this;
    }

    public final boolean headerDigest() {
        return (flags() & FLAG_HDGSTF) != 0;
    }

    public final boolean dataDigest() {
        return (flags() & FLAG_DDGSTF) != 0;
    }

    public final int hlen() {
        return Wire.u8(segment, offset + HLEN_OFFSET);
    }

    public final TcpPdu hlen(int v) {
        Wire.u8(segment, offset + HLEN_OFFSET, v);
        return this;
    }

    public final int pdo() {
        return Wire.u8(segment, offset + PDO_OFFSET);
    }

    public final TcpPdu pdo(int v) {
        Wire.u8(segment, offset + PDO_OFFSET, v);
        return this;
    }

    /** PDU length: header, header digest, padding, data and data digest (unsigned 32 bits). */
    public final long plen() {
        return Wire.u32(segment, offset + PLEN_OFFSET);
    }

    public final TcpPdu plen(long v) {
        Wire.u32(segment, offset + PLEN_OFFSET, v);
        return this;
    }

    /** The header digest as stored right after the header (valid only when HDGSTF is set). */
    public final int storedHeaderDigest() {
        return segment.get(Wire.U32, offset + hlen());
    }

    final void putCommonHeader(int type, int flags, int hlen, int pdo, long plen) {
        Wire.u8(segment, offset + TYPE_OFFSET, type);
        Wire.u8(segment, offset + FLAGS_OFFSET, flags);
        Wire.u8(segment, offset + HLEN_OFFSET, hlen);
        Wire.u8(segment, offset + PDO_OFFSET, pdo);
        Wire.u32(segment, offset + PLEN_OFFSET, plen);
    }

    @Override
    public String toString() {
        if (segment == null) {
            return getClass().getSimpleName() + "[unwrapped]";
        }
        return PduType.name(type()) + "[flags=0x" + Integer.toHexString(flags()) + ", hlen=" + hlen() + ", pdo=" + pdo()
                + ", plen=" + plen() + "]";
    }
}
