package io.keel.vhost.user;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GET/SET_INFLIGHT_FD's payload: {@code u64 mmap_size, u64 mmap_offset, u16 num_queues, u16 queue_size} (24 bytes as
 * QEMU sends it, padded; 20 are read).
 */
public final class InflightPayload {
    public static final int BYTES = 24;
    public static final int MIN_BYTES = 20;

    private InflightPayload() {
    }

    public static long mmapSize(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    public static long mmapOffset(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
    }

    public static int numQueues(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_SHORT_UNALIGNED, 16) & 0xffff;
    }

    public static int queueSize(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_SHORT_UNALIGNED, 18) & 0xffff;
    }

    public static void write(MemorySegment payload, long mmapSize, long mmapOffset, int numQueues, int queueSize) {
        payload.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, mmapSize);
        payload.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, mmapOffset);
        payload.set(ValueLayout.JAVA_SHORT_UNALIGNED, 16, (short) numQueues);
        payload.set(ValueLayout.JAVA_SHORT_UNALIGNED, 18, (short) queueSize);
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 20, 0);
    }
}
