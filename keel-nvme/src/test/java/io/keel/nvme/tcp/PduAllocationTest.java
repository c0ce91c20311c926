package io.keel.nvme.tcp;

import static io.keel.nvme.tcp.PduStreams.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Steady-state decoding and encoding allocate nothing per PDU (ThreadMXBean allocated bytes). */
class PduAllocationTest {
    private static final int PDUS = 100_000;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** What a pair of {@link #allocatedBytes()} calls itself allocates, subtracted from the measurements. */
    private static long probeCost() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = allocatedBytes();
            min = Math.min(min, allocatedBytes() - a);
        }
        return min;
    }

    /** Four PDUs a controller receives, with header and data digests and CPDA 1. */
    private static MemorySegment controllerBound(Arena arena, int[] length) {
        MemorySegment buf = arena.allocate(16384);
        PduEncoder enc = new PduEncoder().negotiated(true, true, 1);
        long p = enc.capsuleCmd(buf, 0, MemorySegment.ofArray(pattern(64, 1)), 0, null, 0, 0);
        p += enc.capsuleCmd(buf, p, MemorySegment.ofArray(pattern(64, 2)), 0, MemorySegment.ofArray(pattern(512, 3)), 0,
                512);
        p += enc.h2cData(buf, p, 1, 2, 0, MemorySegment.ofArray(pattern(4096, 4)), 0, 4096, false);
        p += enc.h2cData(buf, p, 1, 2, 4096, MemorySegment.ofArray(pattern(100, 5)), 0, 100, true);
        length[0] = (int) p;
        return buf;
    }

    private static long decodeRounds(PduReader reader, MemorySegment src, int length, int rounds, int split,
            MemorySegment dst) {
        long ends = 0;
        for (int r = 0; r < rounds; r++) {
            long pos = 0;
            while (pos < length) {
                long limit = split == 0 ? length : Math.min(length, pos + split);
                PduReader.Event ev = reader.decode(src, pos, limit - pos);
                pos += reader.consumed();
                switch (ev) {
                    case HEADER -> {
                        if (dst != null && reader.hasData()) {
                            reader.readDataInto(dst, 0);
                        }
                    }
                    case END -> ends++;
                    case DATA_DIGEST_ERROR, ERROR -> throw new AssertionError("unexpected " + ev);
                    default -> {
                    }
                }
            }
        }
        return ends;
    }

    private static void assertNoAllocationPerPdu(int split, boolean intoBuffer) {
        try (Arena arena = Arena.ofConfined()) {
            int[] length = new int[1];
            MemorySegment src = controllerBound(arena, length);
            MemorySegment dst = intoBuffer ? arena.allocate(8192) : null;
            PduReader reader = new PduReader(PduReader.Role.CONTROLLER, 1 << 16).negotiated(true, true, 1);
            int rounds = PDUS / 4;
            assertThat(decodeRounds(reader, src, length[0], rounds, split, dst)).isEqualTo(PDUS); // warm-up
            long before = allocatedBytes();
            long ends = decodeRounds(reader, src, length[0], rounds, split, dst);
            long allocated = allocatedBytes() - before - probeCost();
            assertThat(ends).isEqualTo(PDUS);
            System.out.printf("PduReader split=%d into=%b: %d bytes allocated over %d PDUs%n", split, intoBuffer,
                    allocated, PDUS);
            assertThat(allocated).as("bytes allocated decoding %d PDUs", PDUS).isLessThan(100);
        }
    }

    @Test
    void decodingCoalescedReadsAllocatesNothing() {
        assertNoAllocationPerPdu(0, false);
        assertNoAllocationPerPdu(0, true);
    }

    @Test
    void decodingSmallReadsAllocatesNothing() {
        assertNoAllocationPerPdu(61, false);
        assertNoAllocationPerPdu(61, true);
    }

    @Test
    void encodingAllocatesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16384);
            MemorySegment sqe = arena.allocate(64);
            MemorySegment cqe = arena.allocate(16);
            MemorySegment data = arena.allocate(4096);
            PduEncoder enc = new PduEncoder().negotiated(true, true, 0);
            long total = 0;
            for (int pass = 0; pass < 2; pass++) {
                long before = allocatedBytes();
                total = 0;
                for (int i = 0; i < PDUS / 4; i++) {
                    total += enc.capsuleCmd(buf, 0, sqe, 0, data, 0, 512);
                    total += enc.capsuleResp(buf, 1024, cqe, 0);
                    total += enc.c2hData(buf, 2048, i, 0, 0, data, 0, 4096, true, true);
                    total += enc.r2t(buf, 8192, i, 1, 0, 4096);
                }
                long allocated = allocatedBytes() - before - probeCost();
                if (pass == 1) {
                    System.out.printf("PduEncoder: %d bytes allocated over %d PDUs%n", allocated, PDUS);
                    assertThat(allocated).isLessThan(100);
                }
            }
            assertThat(total).isPositive();
        }
    }
}
