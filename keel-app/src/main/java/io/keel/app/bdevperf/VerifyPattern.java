package io.keel.app.bdevperf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The data the verify workload writes: every block starts with a header (a magic word tied to the job's seed,
 * the block's LBA, the write's generation, the seed) and is filled with words derived from all three, so data
 * that is stale (an older generation), misplaced (another LBA), from another job or run (another seed), or
 * missing (zeros, or whatever the buffer held) differs from what is expected. Filling and comparing allocate
 * nothing.
 */
final class VerifyPattern {
    static final long MAGIC = 0x4b45454c56455259L; // "KEELVERY"
    static final int HEADER_BYTES = 32;
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;

    private VerifyPattern() {
    }

    /** Writes the pattern of {@code blocks} blocks starting at {@code firstLba}, generation {@code generation}. */
    static void fill(MemorySegment buf, long firstLba, long blocks, int blockSize, long generation, long seed) {
        long at = 0;
        for (long b = 0; b < blocks; b++) {
            long lba = firstLba + b;
            buf.set(WORD, at, MAGIC ^ seed);
            buf.set(WORD, at + 8, lba);
            buf.set(WORD, at + 16, generation);
            buf.set(WORD, at + 24, seed);
            long v = mix(lba, generation, seed);
            for (int off = HEADER_BYTES; off + 8 <= blockSize; off += 8) {
                buf.set(WORD, at + off, v + off);
            }
            at += blockSize;
        }
    }

    /** The first byte at which {@code actual} differs from {@code expected} over {@code length} bytes, or -1. */
    static long mismatch(MemorySegment expected, MemorySegment actual, long length) {
        return MemorySegment.mismatch(expected, 0, length, actual, 0, length);
    }

    /**
     * Says what went wrong at byte {@code at} (from {@link #mismatch}): which block, what its header should
     * say and what it says.
     */
    static String describe(MemorySegment expected, MemorySegment actual, long at, long firstLba, int blockSize) {
        long block = at / blockSize;
        long base = block * blockSize;
        long lba = firstLba + block;
        StringBuilder sb = new StringBuilder();
        sb.append("LBA ").append(lba).append(" (byte offset ").append(lba * blockSize).append(", byte ")
                .append(at - base).append(" of the block): expected ").append(header(expected, base));
        sb.append(", found ").append(header(actual, base));
        if (sameHeader(expected, actual, base)) {
            sb.append(" with different data after the header");
        }
        sb.append(String.format("; expected bytes %s, found %s", hex(expected, at), hex(actual, at)));
        return sb.toString();
    }

    private static String header(MemorySegment s, long base) {
        long magic = s.get(WORD, base);
        long lba = s.get(WORD, base + 8);
        long gen = s.get(WORD, base + 16);
        long seed = s.get(WORD, base + 24);
        if ((magic ^ seed) != MAGIC) {
            return magic == 0 && lba == 0 && gen == 0 && seed == 0 ? "[zeros: no pattern]"
                    : String.format("[no pattern: %016x %016x %016x %016x]", magic, lba, gen, seed);
        }
        return "[lba " + lba + ", generation " + gen + ", seed " + Long.toHexString(seed) + "]";
    }

    private static boolean sameHeader(MemorySegment a, MemorySegment b, long base) {
        return MemorySegment.mismatch(a, base, base + HEADER_BYTES, b, base, base + HEADER_BYTES) == -1;
    }

    private static String hex(MemorySegment s, long at) {
        StringBuilder sb = new StringBuilder();
        long end = Math.min(s.byteSize(), at + 8);
        for (long i = at; i < end; i++) {
            sb.append(String.format("%02x", s.get(ValueLayout.JAVA_BYTE, i)));
        }
        return sb.toString();
    }

    private static long mix(long lba, long generation, long seed) {
        long z = lba * 0x9E3779B97F4A7C15L ^ generation * 0xC2B2AE3D27D4EB4FL ^ seed;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
