package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian unaligned accessors shared by the flyweights. */
final class Wire {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Wire() {
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static void u8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    static int u16(MemorySegment s, long off) {
        return s.get(U16, off) & 0xFFFF;
    }

    static void u16(MemorySegment s, long off, int v) {
        s.set(U16, off, (short) v);
    }

    static long u32(MemorySegment s, long off) {
        return s.get(U32, off) & 0xFFFF_FFFFL;
    }

    static void u32(MemorySegment s, long off, long v) {
        s.set(U32, off, (int) v);
    }
}
