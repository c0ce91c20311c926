package io.keel.core.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A transport with a device of its own (the RDMA host) learns of the memory it may hand the device: what was
 * registered before it subscribed, then each range as it comes and goes, with the range inactive before it is told
 * of the removal.
 */
class DmaMemoryTest {
    /** Records what it is told, and whether a removed range was already inactive then. */
    private static final class Recorder implements DmaMemory.Listener {
        final List<String> events = new ArrayList<>();

        @Override
        public void added(DmaMemory.Range range) {
            events.add("added " + range.byteSize());
        }

        @Override
        public void removed(DmaMemory.Range range) {
            events.add("removed " + range.byteSize() + (range.active() ? " while active" : ""));
        }
    }

    @Test
    void aSubscriberSeesWhatIsThereThenEachChange() {
        try (NativeArena arena = new NativeArena()) {
            DmaMemory.Range before = DmaMemory.register(arena.allocate(8192, 4096));
            Recorder recorder = new Recorder();
            List<DmaMemory.Range> now = DmaMemory.subscribe(recorder);
            try {
                assertThat(now).contains(before);
                DmaMemory.Range later = DmaMemory.register(arena.allocate(12288, 4096));
                DmaMemory.unregister(later);
                DmaMemory.unregister(later);
                DmaMemory.unregister(before);
                assertThat(recorder.events).containsExactly("added 12288", "removed 12288", "removed 8192");
                assertThat(later.active()).isFalse();
                assertThat(DmaMemory.ranges()).doesNotContain(before, later);
            } finally {
                DmaMemory.unsubscribe(recorder);
            }
        }
    }

    @Test
    void overlappingHeapAndEmptyMemoryAreRefused() {
        try (NativeArena arena = new NativeArena()) {
            MemorySegment buf = arena.allocate(16384, 4096);
            DmaMemory.Range r = DmaMemory.register(buf.asSlice(4096, 8192));
            try {
                assertThatThrownBy(() -> DmaMemory.register(buf.asSlice(0, 8192)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
                assertThatThrownBy(() -> DmaMemory.register(MemorySegment.ofArray(new byte[4096])))
                        .isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> DmaMemory.register(buf.asSlice(0, 0)))
                        .isInstanceOf(IllegalArgumentException.class);
                DmaMemory.unregister(DmaMemory.register(buf.asSlice(0, 4096))); // adjacent is fine
            } finally {
                DmaMemory.unregister(r);
            }
        }
    }
}
