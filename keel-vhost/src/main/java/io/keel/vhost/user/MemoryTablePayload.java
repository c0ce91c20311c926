package io.keel.vhost.user;

import io.keel.vhost.memory.RegionSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * SET_MEM_TABLE's payload: {@code u32 nregions, u32 padding}, then per region {@code u64 guest_phys_addr,
 * u64 memory_size, u64 userspace_addr, u64 mmap_offset}; one fd per region comes with the message.
 */
public final class MemoryTablePayload {
    public static final int HEADER_BYTES = 8;
    public static final int REGION_BYTES = 32;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private MemoryTablePayload() {
    }

    public static int regionCount(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    public static List<RegionSpec> regions(MemorySegment payload, int count) {
        List<RegionSpec> regions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long at = HEADER_BYTES + (long) REGION_BYTES * i;
            regions.add(new RegionSpec(payload.get(U64, at), payload.get(U64, at + 8), payload.get(U64, at + 16),
                    payload.get(U64, at + 24)));
        }
        return regions;
    }

    /** Writes a table (the front end's side: tests, a virtio-user initiator); the payload's size. */
    public static int write(MemorySegment payload, List<RegionSpec> regions) {
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 0, regions.size());
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        for (int i = 0; i < regions.size(); i++) {
            long at = HEADER_BYTES + (long) REGION_BYTES * i;
            RegionSpec r = regions.get(i);
            payload.set(U64, at, r.guestPhysAddr());
            payload.set(U64, at + 8, r.size());
            payload.set(U64, at + 16, r.userAddr());
            payload.set(U64, at + 24, r.mmapOffset());
        }
        return HEADER_BYTES + REGION_BYTES * regions.size();
    }
}
