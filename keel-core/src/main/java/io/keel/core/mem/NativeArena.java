package io.keel.core.mem;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native memory that comes and goes with one object (a connection, a session, a bdev, one superblock write), freed
 * when its owner closes it: what a shared {@link Arena} would hold, without its price. Closing a shared arena makes
 * the JVM handshake with every thread, which waits until each has reached a safepoint; on this machine kind that
 * took 0.17 ms at the median and 5-20 ms at the tail under load (a reactor stall per close; the watchdog saw 118 ms
 * at startup), while a confined arena cannot be read by another thread. Here a small allocation is an
 * {@code aligned_alloc}, a large region an anonymous {@code mmap} ({@link #map}: page-aligned, backed and zeroed by
 * the kernel only when touched, so hundreds of MiB cost microseconds, optionally advised for transparent huge
 * pages as SPDK's hugepage memory), a mapping made elsewhere may be handed over ({@link #adoptMapping}), and
 * {@link #close} frees or unmaps them all: no handshake, no GC.
 *
 * <p>The price is the JVM's use-after-free check: the segments have no scope, so the owner closes the arena once
 * nothing uses its memory any more (its I/O has completed, its peer is gone) and drops its references, as C code
 * would. Memory is zeroed, as an arena's is. The owner thread allocates and closes; others may read and write.
 */
public final class NativeArena implements SegmentAllocator, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NativeArena.class);
    private static final boolean MMAP_USABLE = Libc.MMAP != null && Libc.MUNMAP != null;

    /** Start addresses of what this arena holds, and for each the mapping's size (0: allocated, to be freed). */
    private long[] addresses = new long[4];
    private long[] mappedSizes = new long[4];
    private int count;
    private boolean closed;

    /** {@code byteSize} zeroed bytes aligned to {@code byteAlignment} (a power of two), valid until {@link #close}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        checkOpen();
        if (byteSize < 0 || byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1) {
            throw new IllegalArgumentException("size " + byteSize + ", alignment " + byteAlignment);
        }
        long alignment = Math.max(byteAlignment, 16);
        long rounded = Math.max(alignment, (byteSize + alignment - 1) & -alignment); // C11: a multiple of it
        MemorySegment p;
        try {
            p = (MemorySegment) Libc.ALIGNED_ALLOC.invokeExact(alignment, rounded);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (p.address() == 0) {
            throw new OutOfMemoryError("aligned_alloc of " + rounded + " bytes failed");
        }
        record(p.address(), 0);
        MemorySegment s = p.reinterpret(byteSize);
        s.fill((byte) 0);
        return s;
    }

    /** The size of a transparent huge page on x86-64 and of arm64's with 4 KiB pages: align to it for {@link #map}. */
    public static final long HUGE_PAGE = 2L << 20;
    private static final long PAGE = 4096;

    /**
     * A large zeroed region of {@code size} bytes aligned to {@code alignment} (a power of two; above a page the
     * mapping is made larger and trimmed to it): an anonymous private mapping, advised for transparent huge pages
     * when {@code hugePages} (aligned to {@link #HUGE_PAGE}, every whole 2 MiB of it can be one page: the kernel's
     * copies to and from it then miss the TLB once per 2 MiB, not per 4 KiB, as with SPDK's hugepage memory); where
     * {@code mmap} cannot be used, an allocation.
     */
    public MemorySegment map(long size, long alignment, boolean hugePages) {
        checkOpen();
        if (MMAP_USABLE) {
            long pages = (size + PAGE - 1) & -PAGE;
            long slack = alignment > PAGE ? alignment : 0;
            MemorySegment p;
            try (Arena call = Arena.ofConfined()) {
                p = (MemorySegment) Libc.MMAP.invokeExact(Libc.callState(call), MemorySegment.NULL, pages + slack,
                        Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0L);
            } catch (Throwable e) {
                throw new IllegalStateException("mmap of " + size + " bytes failed", e);
            }
            boolean mapped = p.address() != Libc.MAP_FAILED && p.address() != 0;
            if (mapped && slack > 0) { // keep the aligned part, give back what lies before and after it
                long start = (p.address() + alignment - 1) & -alignment;
                if (start > p.address()) {
                    unmap(p.address(), start - p.address());
                }
                long end = p.address() + pages + slack;
                if (end > start + pages) {
                    unmap(start + pages, end - start - pages);
                }
                p = MemorySegment.ofAddress(start);
            }
            if (mapped && p.address() % alignment == 0) {
                if (hugePages) {
                    adviseHugePages(p, pages);
                }
                record(p.address(), pages);
                return p.reinterpret(size);
            }
            if (mapped) {
                unmap(p.address(), pages);
            }
            LOG.warn("mmap of {} bytes failed; allocating instead", size);
        }
        return allocate(size, alignment);
    }

    /** Takes over a mapping of {@code size} bytes at {@code mapping} made elsewhere: unmapped at {@link #close}. */
    public MemorySegment adoptMapping(MemorySegment mapping, long size) {
        checkOpen();
        record(mapping.address(), size);
        return mapping.reinterpret(size);
    }

    /** Frees and unmaps everything, newest first; the segments handed out must not be used after. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = count - 1; i >= 0; i--) {
            if (mappedSizes[i] > 0) {
                unmap(addresses[i], mappedSizes[i]);
            } else {
                try {
                    Libc.FREE.invokeExact(MemorySegment.ofAddress(addresses[i]));
                } catch (Throwable t) {
                    throw Libc.rethrow(t);
                }
            }
        }
        count = 0;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("native arena already closed");
        }
    }

    private void record(long address, long mappedSize) {
        if (count == addresses.length) {
            addresses = Arrays.copyOf(addresses, count * 2);
            mappedSizes = Arrays.copyOf(mappedSizes, count * 2);
        }
        addresses[count] = address;
        mappedSizes[count] = mappedSize;
        count++;
    }

    private static void adviseHugePages(MemorySegment p, long size) {
        if (Libc.MADVISE == null) {
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            if ((int) Libc.MADVISE.invokeExact(Libc.callState(call), p, size, Libc.MADV_HUGEPAGE) != 0) {
                LOG.debug("madvise(MADV_HUGEPAGE) refused for {} bytes: small pages", size);
            }
        } catch (Throwable e) {
            LOG.debug("madvise failed", e);
        }
    }

    private static void unmap(long address, long size) {
        try (Arena call = Arena.ofConfined()) {
            int rc = (int) Libc.MUNMAP.invokeExact(Libc.callState(call), MemorySegment.ofAddress(address), size);
            if (rc != 0) {
                LOG.error("munmap of {} bytes at 0x{} failed", size, Long.toHexString(address));
            }
        } catch (Throwable e) {
            LOG.error("munmap of {} bytes failed", size, e);
        }
    }
}
