package io.keel.nvme.spec;

/**
 * A 16-byte SGL descriptor (NVMe Base 2.0 §4.3.2, figure 117–124). Bytes 0–7 address, byte 15 the
 * SGL identifier: descriptor type in bits 7:4, subtype in bits 3:0. Plain descriptors carry a
 * 32-bit length at byte 8; keyed data block descriptors (RDMA) a 24-bit length at 8 and a 32-bit
 * key at 11.
 */
public final class SglDescriptor extends Flyweight<SglDescriptor> {
    public static final int SIZE = 16;

    // Descriptor types
    public static final int TYPE_DATA_BLOCK = 0x0;
    public static final int TYPE_BIT_BUCKET = 0x1;
    public static final int TYPE_SEGMENT = 0x2;
    public static final int TYPE_LAST_SEGMENT = 0x3;
    public static final int TYPE_KEYED_DATA_BLOCK = 0x4;
    public static final int TYPE_TRANSPORT_DATA_BLOCK = 0x5;
    // Subtypes
    public static final int SUBTYPE_ADDRESS = 0x0;
    public static final int SUBTYPE_OFFSET = 0x1;
    /** Transport specific subtype (NVMe/TCP: the command's data is transferred by the transport). */
    public static final int SUBTYPE_TRANSPORT = 0xA;
    /** Keyed data block: invalidate the remote key when done (RDMA). */
    public static final int SUBTYPE_INVALIDATE_KEY = 0xF;

    /** NVMe/TCP in-capsule data: data block, offset subtype. */
    public static final int ID_IN_CAPSULE = TYPE_DATA_BLOCK << 4 | SUBTYPE_OFFSET;
    /** NVMe/TCP data moved by H2C/C2H PDUs: transport data block, transport specific subtype. */
    public static final int ID_TRANSPORT = TYPE_TRANSPORT_DATA_BLOCK << 4 | SUBTYPE_TRANSPORT;

    @Override
    public int size() {
        return SIZE;
    }

    public long address() {
        return u64(0);
    }

    public SglDescriptor address(long v) {
        u64(0, v);
        return this;
    }

    /** Length of a non-keyed descriptor (bytes 11:8). */
    public long length() {
        return u32L(8);
    }

    public SglDescriptor length(long v) {
        u32(8, (int) v);
        return this;
    }

    /** Length of a keyed data block descriptor (bytes 10:8, 24 bits). */
    public int keyedLength() {
        return Wire.u24(segment, offset + 8);
    }

    public SglDescriptor keyedLength(int v) {
        Wire.u24(segment, offset + 8, v);
        return this;
    }

    /** Key of a keyed data block descriptor (bytes 14:11). */
    public int key() {
        return u32(11);
    }

    public SglDescriptor key(int v) {
        u32(11, v);
        return this;
    }

    /** SGL identifier byte (15): type bits 7:4, subtype bits 3:0. */
    public int identifier() {
        return u8(15);
    }

    public SglDescriptor identifier(int v) {
        u8(15, v);
        return this;
    }

    public int type() {
        return u8(15) >>> 4;
    }

    public int subtype() {
        return u8(15) & 0xF;
    }

    public SglDescriptor identifier(int type, int subtype) {
        u8(15, (type & 0xF) << 4 | (subtype & 0xF));
        return this;
    }
}
