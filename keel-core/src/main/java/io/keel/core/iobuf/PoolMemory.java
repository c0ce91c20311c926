package io.keel.core.iobuf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory behind a pool: one anonymous private mapping ({@code mmap}) tied to a shared {@link Arena},
 * whose closing unmaps it. A mapping is page-aligned and its pages are only backed (and zeroed by the
 * kernel) when first touched, so allocating the default pools (~196 MiB) at init costs microseconds on the
 * application thread rather than a reactor-stalling memset, and unused buffers cost no memory. Where
 * {@code mmap} cannot be called, {@link Arena#allocate} (4 KiB-aligned, zeroed) is used instead.
 */
final class PoolMemory {
    private static final Logger LOG = LoggerFactory.getLogger(PoolMemory.class);
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        try {
            Linker linker = Linker.nativeLinker();
            mmap = linker.defaultLookup().find("mmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
            munmap = linker.defaultLookup().find("munmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("mmap is not available; iobuf pools use Arena.allocate", e);
        }
        MMAP = munmap == null ? null : mmap;
        MUNMAP = mmap == null ? null : munmap;
    }

    private PoolMemory() {
    }

    /** {@code size} bytes aligned to {@code alignment} (at most a page), valid until {@code arena} closes. */
    static MemorySegment allocate(Arena arena, long size, long alignment) {
        if (MMAP != null) {
            MemorySegment p;
            try {
                p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
            } catch (Throwable e) {
                throw new IllegalStateException("mmap of " + size + " bytes failed", e);
            }
            if (p.address() != -1L && p.address() != 0 && p.address() % alignment == 0) {
                return p.reinterpret(size, arena, s -> unmap(s, size));
            }
            if (p.address() != -1L && p.address() != 0) {
                unmap(p, size);
            }
            LOG.warn("mmap of {} bytes failed; trying Arena.allocate", size);
        }
        return arena.allocate(size, alignment);
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
