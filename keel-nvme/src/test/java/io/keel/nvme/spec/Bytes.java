package io.keel.nvme.spec;

/** Test helpers: little-endian raw byte access on a plain array, independent of {@link Wire}. */
final class Bytes {
    private Bytes() {
    }

    static void le(byte[] b, int off, long v, int len) {
        for (int i = 0; i < len; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    static long le(byte[] b, int off, int len) {
        long v = 0;
        for (int i = 0; i < len; i++) {
            v |= (b[off + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, java.nio.charset.StandardCharsets.US_ASCII);
    }

    static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
