package io.keel.core.mem;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
    private static final int MADV_HUGEPAGE = 14;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        MethodHandle madvise = null;
        try {
            Linker linker = Linker.nativeLinker();
            mmap = linker.defaultLookup().find("mmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
            munmap = linker.defaultLookup().find("munmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null);
            madvise = linker.defaultLookup().find("madvise").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("mmap is not available; large regions use Arena.allocate", e);
        }
        MMAP = munmap == null ? null : mmap;
        MUNMAP = mmap == null ? null : munmap;
        MADVISE = madvise;
    }

    private AnonymousMemory() {
    }

    /** {@code size} bytes aligned to {@code alignment} (at most a page), valid until {@code arena} closes. */
    public static MemorySegment allocate(Arena arena, long size, long alignment) {
        return allocate(arena, size, alignment, false);
    }

    /** As {@link #allocate(Arena, long, long)}, advised for transparent huge pages when {@code hugePages}. */
    public static MemorySegment allocate(Arena arena, long size, long alignment, boolean hugePages) {
        if (MMAP != null) {
            MemorySegment p;
            try {
                p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
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
        if (MADVISE == null) {
            return;
        }
        try {
            if ((int) MADVISE.invokeExact(p, size, MADV_HUGEPAGE) != 0) {
                LOG.debug("madvise(MADV_HUGEPAGE) refused for {} bytes: small pages", size);
            }
        } catch (Throwable e) {
            LOG.debug("madvise failed", e);
        }
    }

    private static void unmap(MemorySegment s, long size) {
        try {
            int rc = (int) MUNMAP.invokeExact(s, size);
            if (rc != 0) {
                LOG.error("munmap of {} bytes at 0x{} failed", size, Long.toHexString(s.address()));
            }
        } catch (Throwable e) {
            LOG.error("munmap of {} bytes failed", size, e);
        }
    }
}
