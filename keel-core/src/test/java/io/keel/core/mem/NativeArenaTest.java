package io.keel.core.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeArenaTest {
    @Test
    void blocksAreZeroedAlignedUsableAndFreedOnce() {
        NativeArena a = new NativeArena();
        MemorySegment small = a.allocate(24, 8);
        MemorySegment page = a.allocate(10_000, 4096);
        for (int i = 0; i < 10; i++) {
            a.allocate(100, 64); // more blocks than the first table holds
        }
        assertThat(small.byteSize()).isEqualTo(24);
        assertThat(page.byteSize()).isEqualTo(10_000);
        assertThat(page.address() % 4096).isZero();
        for (long i = 0; i < page.byteSize(); i++) {
            assertThat(page.get(ValueLayout.JAVA_BYTE, i)).isZero();
        }
        page.set(ValueLayout.JAVA_LONG, 9_992, 42L);
        assertThat(page.get(ValueLayout.JAVA_LONG, 9_992)).isEqualTo(42L);
        a.close();
        a.close(); // idempotent: nothing is freed twice
        assertThat(a.isClosed()).isTrue();
        assertThatThrownBy(() -> a.allocate(8, 8)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void mappingsAlignedToAHugePageAreWholeZeroedAndUsable() {
        try (NativeArena a = new NativeArena()) {
            for (long size : new long[] {NativeArena.HUGE_PAGE, 3 * NativeArena.HUGE_PAGE + 5000, 12_345}) {
                MemorySegment m = a.map(size, NativeArena.HUGE_PAGE, true);
                assertThat(m.address() % NativeArena.HUGE_PAGE).as("%d bytes", size).isZero();
                assertThat(m.byteSize()).isEqualTo(size);
                assertThat(m.get(ValueLayout.JAVA_BYTE, 0)).isZero();
                assertThat(m.get(ValueLayout.JAVA_BYTE, size - 1)).isZero();
                m.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                m.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 2); // the last byte is mapped: the trim kept it
                assertThat(m.get(ValueLayout.JAVA_BYTE, size - 1)).isEqualTo((byte) 2);
            }
            MemorySegment pages = a.map(10_000, 4096, false);
            assertThat(pages.address() % 4096).isZero();
        }
    }

    @Test
    void badAlignmentsAreRefused() {
        try (NativeArena a = new NativeArena()) {
            assertThatThrownBy(() -> a.allocate(8, 3)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> a.allocate(-1, 8)).isInstanceOf(IllegalArgumentException.class);
            assertThat(a.allocate(0, 1).byteSize()).isZero();
        }
    }
}
