package io.keel.nvme.spec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Little-endian primitive access shared by every NVMe structure. NVMe stores all multi-byte fields
 * little-endian; unsigned values are widened (u8/u16 to {@code int}, u32 to {@code long} where the
 * full range matters, u64 as raw {@code long}). None of the numeric helpers allocate.
 */
public final class Wire {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Wire() {
    }

    public static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    public static void u8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    public static int u16(MemorySegment s, long off) {
        return s.get(U16, off) & 0xFFFF;
    }

    public static void u16(MemorySegment s, long off, int v) {
        s.set(U16, off, (short) v);
    }

    /** A u32 as a Java int (bit pattern); use {@link #u32L} for the unsigned value. */
    public static int u32(MemorySegment s, long off) {
        return s.get(U32, off);
    }

    public static long u32L(MemorySegment s, long off) {
        return s.get(U32, off) & 0xFFFF_FFFFL;
    }

    public static void u32(MemorySegment s, long off, int v) {
        s.set(U32, off, v);
    }

    public static long u64(MemorySegment s, long off) {
        return s.get(U64, off);
    }

    public static void u64(MemorySegment s, long off, long v) {
        s.set(U64, off, v);
    }

    /** 24-bit little-endian unsigned value (keyed SGL length). */
    public static int u24(MemorySegment s, long off) {
        return u8(s, off) | u8(s, off + 1) << 8 | u8(s, off + 2) << 16;
    }

    public static void u24(MemorySegment s, long off, int v) {
        u8(s, off, v);
        u8(s, off + 1, v >>> 8);
        u8(s, off + 2, v >>> 16);
    }

    /** Zero {@code len} bytes without allocating. */
    public static void zero(MemorySegment s, long off, long len) {
        long i = 0;
        for (; i + 8 <= len; i += 8) {
            s.set(U64, off + i, 0L);
        }
        for (; i < len; i++) {
            s.set(ValueLayout.JAVA_BYTE, off + i, (byte) 0);
        }
    }

    /**
     * Writes an ASCII string left-justified and padded with spaces (0x20) to {@code len} bytes, as
     * the spec requires for SN, MN, FR and the discovery TRSVCID/TRADDR fields.
     */
    public static void asciiPadded(MemorySegment s, long off, int len, String v) {
        byte[] b = v.getBytes(StandardCharsets.US_ASCII);
        if (b.length > len) {
            throw new IllegalArgumentException("'" + v + "' longer than " + len + " bytes");
        }
        for (int i = 0; i < len; i++) {
            u8(s, off + i, i < b.length ? b[i] : 0x20);
        }
    }

    /** Reads a space- or NUL-padded ASCII field, trailing spaces and NULs removed. */
    public static String asciiPadded(MemorySegment s, long off, int len) {
        int end = len;
        while (end > 0) {
            int c = u8(s, off + end - 1);
            if (c != 0x20 && c != 0) {
                break;
            }
            end--;
        }
        byte[] b = new byte[end];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, end);
        return new String(b, StandardCharsets.US_ASCII);
    }

    /**
     * Writes a NUL-terminated UTF-8 string (NQN fields) zero-filled to {@code len} bytes; at most
     * {@code len - 1} bytes of text so the terminator always fits.
     */
    public static void utf8Z(MemorySegment s, long off, int len, String v) {
        byte[] b = v.getBytes(StandardCharsets.UTF_8);
        if (b.length > len - 1) {
            throw new IllegalArgumentException("'" + v + "' does not fit in " + len + " bytes with its NUL");
        }
        zero(s, off, len);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, off, b.length);
    }

    /** Reads a NUL-terminated UTF-8 string of at most {@code len} bytes. */
    public static String utf8Z(MemorySegment s, long off, int len) {
        int end = 0;
        while (end < len && u8(s, off + end) != 0) {
            end++;
        }
        byte[] b = new byte[end];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, end);
        return new String(b, StandardCharsets.UTF_8);
    }

    public static byte[] bytes(MemorySegment s, long off, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, len);
        return b;
    }

    public static void bytes(MemorySegment s, long off, int len, byte[] v) {
        if (v.length != len) {
            throw new IllegalArgumentException("expected " + len + " bytes, got " + v.length);
        }
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_BYTE, off, len);
    }

    /** Field bits {@code [lo, lo+width)} of {@code v}. */
    static int bits(int v, int lo, int width) {
        return (v >>> lo) & ((1 << width) - 1);
    }

    static int withBits(int v, int lo, int width, int field) {
        int mask = ((1 << width) - 1) << lo;
        return (v & ~mask) | ((field << lo) & mask);
    }

    static long bits(long v, int lo, int width) {
        return (v >>> lo) & ((1L << width) - 1);
    }

    static long withBits(long v, int lo, int width, long field) {
        long mask = ((1L << width) - 1) << lo;
        return (v & ~mask) | ((field << lo) & mask);
    }
}
