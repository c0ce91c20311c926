package io.keel.vhost.memory;

import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A vhost-user memory table mapped into this process: every region's fd mapped {@code MAP_SHARED} from its
 * {@code mmap_offset} (rounded down to the fd's page size, a huge page on hugetlbfs, and the rest skipped), so the
 * guest's memory is read and written in place;
 * a region that reaches past its fd's end is refused (touching it would raise SIGBUS).
 * Translates guest-physical addresses (descriptors) and front-end virtual addresses (ring addresses) with bounds
 * checks: an address is good only if the whole range lies in one region.
 *
 * <p>Lifetime (rule R10): the table is used by its connection's rings and by every request whose segments point into
 * it. Each such request {@link #acquire}s it and {@link #release}s it when it completes; the connection
 * {@link #retire}s it when a new table replaces it or the session ends. It is unmapped when it is retired and the last
 * request has let go, never under a request. Owner thread only.
 */
public final class GuestMemory {
    public static final int MAX_REGIONS = 8;
    private static final long PAGE = 4096;

    private final int count;
    private final long[] guestPhys;
    private final long[] userAddr;
    private final long[] size;
    private final long[] pageSize;
    /** Each region's bytes (a view of its mapping from the region's first byte). */
    private final MemorySegment[] regions;
    /** What was mapped, as munmap takes it. */
    private final MemorySegment[] mappings;
    private int users;
    private boolean retired;
    private boolean unmapped;

    private GuestMemory(int count) {
        this.count = count;
        guestPhys = new long[count];
        userAddr = new long[count];
        size = new long[count];
        pageSize = new long[count];
        regions = new MemorySegment[count];
        mappings = new MemorySegment[count];
    }

    /**
     * Maps {@code specs} (one fd each, in order): the table, or an {@link IllegalArgumentException} saying what is
     * wrong (nothing stays mapped then). The fds stay the caller's: they may be closed once this returns.
     */
    public static GuestMemory map(List<RegionSpec> specs, int[] fds, MemorySegment callState) {
        if (specs.isEmpty() || specs.size() > MAX_REGIONS) {
            throw new IllegalArgumentException(specs.size() + " memory regions (1 to " + MAX_REGIONS + " allowed)");
        }
        GuestMemory m = new GuestMemory(specs.size());
        for (int i = 0; i < specs.size(); i++) {
            RegionSpec r = specs.get(i);
            checkRegion(r, specs, i);
            long fileSize = SharedMemory.size(fds[i], callState);
            if (fileSize < 0 || Long.compareUnsigned(r.mmapOffset() + r.size(), fileSize) > 0) {
                m.unmapAll(callState);
                String end = fileSize < 0 ? Libc.strerror((int) -fileSize) : fileSize + " bytes";
                throw new IllegalArgumentException("region " + i + " (" + r.size() + " bytes at offset "
                        + r.mmapOffset() + ") goes past the end of its fd (" + end + ")");
            }
            long align = pageSize(fds[i], callState);
            long mapOffset = r.mmapOffset() & -align;
            long skip = r.mmapOffset() - mapOffset;
            MemorySegment mapping = SharedMemory.mapShared(fds[i], mapOffset, (skip + r.size() + align - 1) & -align,
                    callState);
            if (mapping.equals(MemorySegment.NULL)) {
                int errno = Libc.errno(callState);
                m.unmapAll(callState);
                throw new IllegalArgumentException("cannot map region " + i + " (" + r.size() + " bytes at offset "
                        + r.mmapOffset() + "): " + Libc.strerror(errno));
            }
            m.mappings[i] = mapping;
            m.regions[i] = mapping.asSlice(skip, r.size());
            m.guestPhys[i] = r.guestPhysAddr();
            m.userAddr[i] = r.userAddr();
            m.size[i] = r.size();
            m.pageSize[i] = align;
        }
        return m;
    }

    /** The fd's page size (a huge page on hugetlbfs): what a mapping's offset and length must be multiples of. */
    private static long pageSize(int fd, MemorySegment callState) {
        long blockSize = SharedMemory.blockSize(fd, callState);
        return blockSize > PAGE && Long.bitCount(blockSize) == 1 ? blockSize : PAGE;
    }

    private static void checkRegion(RegionSpec r, List<RegionSpec> all, int i) {
        if (r.size() <= 0 || r.mmapOffset() < 0 || r.guestPhysAddr() + r.size() - 1 < r.guestPhysAddr()
                || r.userAddr() + r.size() - 1 < r.userAddr()) {
            throw new IllegalArgumentException("region " + i + " is empty or wraps around: " + r);
        }
        for (int j = 0; j < i; j++) {
            RegionSpec o = all.get(j);
            if (overlap(r.guestPhysAddr(), o.guestPhysAddr(), r.size(), o.size())
                    || overlap(r.userAddr(), o.userAddr(), r.size(), o.size())) {
                throw new IllegalArgumentException("regions " + j + " and " + i + " overlap: " + o + ", " + r);
            }
        }
    }

    private static boolean overlap(long a, long b, long aSize, long bSize) {
        return Long.compareUnsigned(a, b + bSize - 1) <= 0 && Long.compareUnsigned(b, a + aSize - 1) <= 0;
    }

    /** The regions for a log line: guest-physical start, size and page size of each. */
    public String describe() {
        StringBuilder b = new StringBuilder().append(count).append(count == 1 ? " region:" : " regions:");
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? " " : ", ").append("0x").append(Long.toHexString(guestPhys[i])).append(" +")
                    .append(size[i] >= 1 << 20 ? (size[i] >> 20) + " MiB" : (size[i] >> 10) + " KiB")
                    .append(" (").append(pageSize[i] >> 10).append(" KiB pages)");
        }
        return b.toString();
    }

    public int regionCount() {
        return count;
    }

    /** The region holding guest-physical address {@code gpa}, or -1. */
    public int regionOfGuest(long gpa) {
        for (int i = 0; i < count; i++) {
            if (Long.compareUnsigned(gpa - guestPhys[i], size[i]) < 0) {
                return i;
            }
        }
        return -1;
    }

    /** Region {@code i}'s bytes; guest-physical address {@code guestStart(i) + x} is byte {@code x}. */
    public MemorySegment region(int i) {
        return regions[i];
    }

    public long guestStart(int i) {
        return guestPhys[i];
    }

    public long regionSize(int i) {
        return size[i];
    }

    /**
     * {@code length} bytes at front-end virtual address {@code userAddress} (vhost-user's ring addresses), or null when
     * they do not lie in one region. Control path: it allocates a view.
     */
    public MemorySegment userRange(long userAddress, long length) {
        for (int i = 0; i < count; i++) {
            long off = userAddress - userAddr[i];
            if (Long.compareUnsigned(off, size[i]) < 0 && length >= 0 && length <= size[i] - off) {
                return regions[i].asSlice(off, length);
            }
        }
        return null;
    }

    /** {@code length} bytes at guest-physical address {@code gpa}, or null when they do not lie in one region. */
    public MemorySegment guestRange(long gpa, long length) {
        int i = regionOfGuest(gpa);
        long off = gpa - (i < 0 ? 0 : guestPhys[i]);
        return i < 0 || length < 0 || length > size[i] - off ? null : regions[i].asSlice(off, length);
    }

    /** A request now points into this table. */
    public void acquire() {
        if (unmapped) {
            throw new IllegalStateException("guest memory table already unmapped");
        }
        users++;
    }

    /** A request that pointed into this table completed; unmaps it if it was the last one of a retired table. */
    public void release(MemorySegment callState) {
        if (--users == 0 && retired) {
            unmapAll(callState);
        }
    }

    /** No new request will use this table; it is unmapped now, or when the last request using it completes. */
    public void retire(MemorySegment callState) {
        retired = true;
        if (users == 0) {
            unmapAll(callState);
        }
    }

    /** Requests still pointing into this table. */
    public int users() {
        return users;
    }

    public boolean unmapped() {
        return unmapped;
    }

    private void unmapAll(MemorySegment callState) {
        unmapped = true;
        for (int i = 0; i < count; i++) {
            if (mappings[i] != null) {
                SharedMemory.unmap(mappings[i], callState);
                mappings[i] = null;
            }
        }
    }
}
