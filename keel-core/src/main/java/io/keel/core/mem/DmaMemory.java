package io.keel.core.mem;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The process's memory that devices may read and write by themselves (SPDK's {@code spdk_mem_register} and the
 * notifications of its memory maps): iobuf's regions, and whatever a module registers explicitly (bdevperf's I/O
 * buffers). A transport that moves data with a device of its own (an RDMA host: a protection domain) subscribes and
 * registers each range with its device once, so I/O in that memory moves without a copy; I/O elsewhere is copied
 * through the transport's own memory.
 *
 * <p>Ranges never overlap. The owner unregisters a range before it frees the memory, once no I/O uses it.
 * Registering, unregistering and subscribing are control-path calls from any thread; they hold a lock only while
 * the list changes and the listeners are told, and listeners must not block (they hand slow work, such as
 * {@code ibv_reg_mr}, to a thread of their own), so a reactor may call them (rule R3).
 */
public final class DmaMemory {
    /** Told of ranges as they come and go, on the thread that registered or unregistered them. Must not block. */
    public interface Listener {
        void added(Range range);

        /** {@code range} is about to be freed: stop using it now (its memory stays valid until this returns). */
        void removed(Range range);
    }

    /** One registered range; {@link #active} until unregistered. */
    public static final class Range {
        private final MemorySegment memory;
        private volatile boolean active = true;

        private Range(MemorySegment memory) {
            this.memory = memory;
        }

        public MemorySegment memory() {
            return memory;
        }

        public long address() {
            return memory.address();
        }

        public long byteSize() {
            return memory.byteSize();
        }

        /** False once unregistered: a listener that registered it late gives it up again. */
        public boolean active() {
            return active;
        }

        @Override
        public String toString() {
            return "DmaMemory.Range[0x" + Long.toHexString(address()) + ", " + byteSize() + " bytes]";
        }
    }

    private static final Object LOCK = new Object();
    private static final List<Range> RANGES = new ArrayList<>();
    private static final List<Listener> LISTENERS = new ArrayList<>();

    private DmaMemory() {
    }

    /**
     * Registers {@code memory} (native, not empty, overlapping no registered range) and tells every listener.
     *
     * @throws IllegalArgumentException for heap or empty memory, or a range overlapping one already registered
     */
    public static Range register(MemorySegment memory) {
        if (!memory.isNative() || memory.byteSize() == 0) {
            throw new IllegalArgumentException("only native, non-empty memory can be registered: " + memory);
        }
        Range r = new Range(memory);
        synchronized (LOCK) {
            for (Range o : RANGES) {
                if (r.address() < o.address() + o.byteSize() && o.address() < r.address() + r.byteSize()) {
                    throw new IllegalArgumentException(r + " overlaps " + o);
                }
            }
            RANGES.add(r);
            for (Listener l : LISTENERS) {
                l.added(r);
            }
        }
        return r;
    }

    /** Unregisters {@code range} (idempotent); every listener has stopped using it when this returns. */
    public static void unregister(Range range) {
        synchronized (LOCK) {
            if (!RANGES.remove(range)) {
                return;
            }
            range.active = false;
            for (Listener l : LISTENERS) {
                l.removed(range);
            }
        }
    }

    /** Subscribes {@code listener}; returns the ranges registered now, of which it will not be told again. */
    public static List<Range> subscribe(Listener listener) {
        synchronized (LOCK) {
            LISTENERS.add(listener);
            return List.copyOf(RANGES);
        }
    }

    public static void unsubscribe(Listener listener) {
        synchronized (LOCK) {
            LISTENERS.remove(listener);
        }
    }

    /** The ranges registered now (a copy). */
    public static List<Range> ranges() {
        synchronized (LOCK) {
            return List.copyOf(RANGES);
        }
    }
}
