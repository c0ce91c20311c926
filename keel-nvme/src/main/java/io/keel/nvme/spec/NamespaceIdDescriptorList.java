package io.keel.nvme.spec;

import java.util.UUID;

/**
 * Namespace Identification Descriptor list, Identify CNS 03h (NVMe Base 2.0 figure 276): 4096 bytes
 * of descriptors, each NIDT (byte 0), NIDL (byte 1), 2 reserved bytes, then NIDL bytes of NID; the
 * list ends at a descriptor with NIDT 0. Write with {@link #reset()} and the {@code add*} methods;
 * read by walking positions with {@link #type(int)}, {@link #length(int)} and {@link #next(int)}.
 */
public final class NamespaceIdDescriptorList extends Flyweight<NamespaceIdDescriptorList> {
    public static final int SIZE = 4096;
    public static final int HEADER = 4;

    public static final int NIDT_EUI64 = 1;
    public static final int NIDT_NGUID = 2;
    public static final int NIDT_UUID = 3;
    public static final int NIDT_CSI = 4;
    public static final int NIDL_EUI64 = 8;
    public static final int NIDL_NGUID = 16;
    public static final int NIDL_UUID = 16;
    public static final int NIDL_CSI = 1;

    private int writePos;

    @Override
    public int size() {
        return SIZE;
    }

    /** Clears the list and starts writing at position 0. */
    public NamespaceIdDescriptorList reset() {
        clear();
        writePos = 0;
        return this;
    }

    public NamespaceIdDescriptorList addEui64(byte[] eui64) {
        return add(NIDT_EUI64, NIDL_EUI64, eui64);
    }

    public NamespaceIdDescriptorList addNguid(byte[] nguid) {
        return add(NIDT_NGUID, NIDL_NGUID, nguid);
    }

    public NamespaceIdDescriptorList addUuid(UUID uuid) {
        return add(NIDT_UUID, NIDL_UUID, Uuids.bytes(uuid));
    }

    public NamespaceIdDescriptorList addCsi(int csi) {
        return add(NIDT_CSI, NIDL_CSI, new byte[] {(byte) csi});
    }

    public NamespaceIdDescriptorList add(int nidt, int nidl, byte[] nid) {
        if (nid.length != nidl) {
            throw new IllegalArgumentException("NID length " + nid.length + " != NIDL " + nidl);
        }
        if (writePos + HEADER + nidl > SIZE - HEADER) {
            throw new IllegalStateException("descriptor list full");
        }
        u8(writePos, nidt);
        u8(writePos + 1, nidl);
        bytes(writePos + HEADER, nidl, nid);
        writePos += HEADER + nidl;
        return this;
    }

    /** NIDT of the descriptor at {@code pos} (0 ends the list). */
    public int type(int pos) {
        return pos + HEADER > SIZE ? 0 : u8(pos);
    }

    public int length(int pos) {
        return u8(pos + 1);
    }

    public byte[] id(int pos) {
        return bytes(pos + HEADER, length(pos));
    }

    public int next(int pos) {
        return pos + HEADER + length(pos);
    }

    /** Position of the first descriptor of type {@code nidt}, or -1. */
    public int find(int nidt) {
        for (int pos = 0; type(pos) != 0; pos = next(pos)) {
            if (type(pos) == nidt) {
                return pos;
            }
        }
        return -1;
    }
}
