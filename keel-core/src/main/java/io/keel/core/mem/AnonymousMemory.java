package io.keel.core.mem;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Large off-heap regions (buffer pools, malloc bdevs): one anonymous private mapping ({@code mmap}) tied to an
 * {@link Arena}, whose closing unmaps it. A mapping is page-aligned and its pages are only backed (and zeroed
 * by the kernel) when first touched, so allocating hundreds of MiB costs microseconds rather than a
 * reactor-stalling memset, and untouched memory costs nothing. With {@code hugePages} the mapping is advised
 * for transparent huge pages ({@code madvise(MADV_HUGEPAGE)}): random access over a large region then misses
 * the TLB far less (as SPDK's hugepage memory does). Where {@code mmap} cannot be called,
 * {@link Arena#allocate} (zeroed) is used instead.
 */
public final class AnonymousMemory {
    private static final Logger LOG = LoggerFactory.getLogger(AnonymousMemory.class);
    /** Both or neither: a mapping that could not be unmapped would leak. */
    private static final boolean MMAP_USABLE = Libc.MMAP != null && Libc.MUNMAP != null;

    private AnonymousMemory() {
    }

    /** {@code size} bytes aligned to {@code alignment} (at most a page), valid until {@code arena} closes. */
    public static MemorySegment allocate(Arena arena, long size, long alignment) {
        return allocate(arena, size, alignment, false);
    }

    /** As {@link #allocate(Arena, long, long)}, advised for transparent huge pages when {@code hugePages}. */
    public static MemorySegment allocate(Arena arena, long size, long alignment, boolean hugePages) {
        if (MMAP_USABLE) {
            MemorySegment p;
            try (Arena call = Arena.ofConfined()) {
                p = (MemorySegment) Libc.MMAP.invokeExact(Libc.callState(call), MemorySegment.NULL, size,
                        Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0L);
            } catch (Throwable e) {
                throw new IllegalStateException("mmap of " + size + " bytes failed", e);
            }
            if (p.address() != -1L && p.address() != 0 && p.address() % alignment == 0) {
                if (hugePages) {
                    adviseHugePages(p, size);
                }
                return p.reinterpret(size, arena, s -> unmap(s, size));
            }
            if (p.address() != -1L && p.address() != 0) {
                unmap(p, size);
            }
            LOG.warn("mmap of {} bytes failed; trying Arena.allocate", size);
        }
        return arena.allocate(size, alignment);
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

    private static void unmap(MemorySegment s, long size) {
        try (Arena call = Arena.ofConfined()) {
            int rc = (int) Libc.MUNMAP.invokeExact(Libc.callState(call), s, size);
            if (rc != 0) {
                LOG.error("munmap of {} bytes at 0x{} failed", size, Long.toHexString(s.address()));
            }
        } catch (Throwable e) {
            LOG.error("munmap of {} bytes failed", size, e);
        }
    }
}
