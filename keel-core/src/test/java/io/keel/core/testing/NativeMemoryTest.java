package io.keel.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    @Test
    void seesAnArenaAllocationAndItsRelease() {
        assertThat(NativeMemory.tracked()).as("surefire runs with -XX:NativeMemoryTracking=summary").isTrue();
        long before = NativeMemory.otherCommitted();
        long size = 64L << 20;
        try (Arena arena = Arena.ofConfined()) {
            arena.allocate(size);
            assertThat(NativeMemory.otherCommitted() - before).isGreaterThanOrEqualTo(size - (1 << 20));
        }
        assertThat(NativeMemory.otherCommitted() - before).isLessThan(1 << 20);
    }
}
