package io.keel.nvme.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The digest is standard CRC32C, stored little-endian, over native, heap and read-only segments alike. */
class Crc32cTest {
    private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);
    private static final int CHECK_VALUE = 0xE3069283; // the CRC-32C check value

    @Test
    void checkValueOverEveryKindOfSegment() {
        Crc32c crc = new Crc32c();
        MemorySegment heap = MemorySegment.ofArray(CHECK);
        MemorySegment nativeSeg = Arena.ofAuto().allocate(100);
        MemorySegment.copy(heap, 0, nativeSeg, 40, 9);
        assertThat(crc.compute(heap, 0, 9)).isEqualTo(CHECK_VALUE);
        assertThat(crc.compute(nativeSeg, 40, 9)).isEqualTo(CHECK_VALUE);
        assertThat(crc.compute(heap.asReadOnly(), 0, 9)).isEqualTo(CHECK_VALUE);
        assertThat(crc.compute(nativeSeg.asReadOnly(), 40, 9)).isEqualTo(CHECK_VALUE);
        // More segments than the view cache holds, then back to the first.
        for (int i = 0; i < 10; i++) {
            assertThat(crc.compute(MemorySegment.ofArray(CHECK.clone()), 0, 9)).isEqualTo(CHECK_VALUE);
        }
        assertThat(crc.compute(nativeSeg, 40, 9)).isEqualTo(CHECK_VALUE);
    }

    @Test
    void theBuffersOfADeepQueueAreDigestedWithoutAllocatingOnceSeen() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Crc32c crc = new Crc32c();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] buffers = new MemorySegment[256]; // bdevperf at QD128 with verify: two per request
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = arena.allocate(4096, 4096);
                MemorySegment.copy(MemorySegment.ofArray(CHECK), 0, buffers[i], i, 9);
            }
            for (int warm = 0; warm < 2; warm++) { // the table grows (and starts over) during the first pass
                for (int i = 0; i < buffers.length; i++) {
                    assertThat(crc.compute(buffers[i], i, 9)).isEqualTo(CHECK_VALUE);
                }
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            int sum = 0;
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < buffers.length; i++) {
                    sum += crc.compute(buffers[i], i, 9) == CHECK_VALUE ? 1 : 0;
                }
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertThat(sum).isEqualTo(10 * buffers.length);
            assertThat(allocated).as("bytes allocated digesting buffers seen before").isLessThan(1024);
        }
    }

    @Test
    void incrementalEqualsWhole() {
        Crc32c crc = new Crc32c();
        MemorySegment s = MemorySegment.ofArray(CHECK);
        crc.reset();
        for (int i = 0; i < 9; i++) {
            crc.update(s, i, 1);
        }
        assertThat(crc.value()).isEqualTo(CHECK_VALUE);
    }

    @Test
    void dataDigestIsStoredLittleEndianAfterTheData() {
        MemorySegment buf = Arena.ofAuto().allocate(256);
        PduEncoder enc = new PduEncoder().negotiated(false, true, 0);
        int len = enc.c2hData(buf, 0, 1, 0, 0, MemorySegment.ofArray(CHECK), 0, 9, true, false);
        assertThat(len).isEqualTo(24 + 9 + 4);
        assertThat(buf.asSlice(24 + 9, 4).toArray(ValueLayout.JAVA_BYTE)).containsExactly(0x83, 0x92, 0x06, 0xE3);
    }
}
