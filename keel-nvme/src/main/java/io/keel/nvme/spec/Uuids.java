package io.keel.nvme.spec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.UUID;

/** 16-byte UUIDs (host ID, namespace UUID, NGUID) stored in network byte order, as their text reads. */
public final class Uuids {
    private static final ValueLayout.OfLong BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Uuids() {
    }

    public static UUID read(MemorySegment s, long off) {
        return new UUID(s.get(BE, off), s.get(BE, off + 8));
    }

    public static void write(MemorySegment s, long off, UUID v) {
        s.set(BE, off, v.getMostSignificantBits());
        s.set(BE, off + 8, v.getLeastSignificantBits());
    }

    public static byte[] bytes(UUID v) {
        byte[] b = new byte[16];
        write(MemorySegment.ofArray(b), 0, v);
        return b;
    }
}
