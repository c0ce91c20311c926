package io.keel.bdev.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap I/O buffers. O_DIRECT needs the buffer address, the length and the file offset aligned (see
 * {@link NativeFile#bufferAlignment()} and {@link NativeFile#ioAlignment()}); page alignment (4096) satisfies
 * every device met in practice. Allocate buffers once (pools) and reuse them; never per I/O.
 */
public final class IoBuffers {
    /** Page size alignment; enough for O_DIRECT on any common device. */
    public static final long PAGE_ALIGNMENT = 4096;

    private IoBuffers() {
    }

    /** A zeroed buffer of {@code size} bytes aligned to {@value #PAGE_ALIGNMENT}. */
    public static MemorySegment allocate(Arena arena, long size) {
        return arena.allocate(size, PAGE_ALIGNMENT);
    }

    /** A zeroed buffer of {@code size} bytes aligned to {@code alignment} (a power of two). */
    public static MemorySegment allocate(Arena arena, long size, long alignment) {
        return arena.allocate(size, alignment);
    }

    /** Whether {@code buf}'s address is a multiple of {@code alignment} (a power of two). */
    public static boolean isAligned(MemorySegment buf, long alignment) {
        return (buf.address() & (alignment - 1)) == 0;
    }
}
