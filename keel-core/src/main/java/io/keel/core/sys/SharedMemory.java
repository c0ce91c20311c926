package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Memory shared with another process through an fd: {@code memfd_create(2)} to make one, {@code mmap(2)} with
 * {@code MAP_SHARED} to map one passed in (vhost maps the guest's memory regions this way), {@code munmap(2)}.
 */
public final class SharedMemory {
    public static final int MFD_CLOEXEC = 1;
    public static final int MFD_ALLOW_SEALING = 2;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_SIZE = 0x200;
    private static final long STATX_BYTES = 256;
    private static final long STX_BLKSIZE = 4; // u32
    private static final long STX_SIZE = 40; // u64

    private SharedMemory() {
    }

    /** {@code memfd_create(name, flags)}: the new fd or {@code -errno}. Size it with {@link #truncate}. */
    public static int memfdCreate(String name, int flags, MemorySegment callState) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) Libc.orErrno((int) Libc.MEMFD_CREATE.invokeExact(callState, arena.allocateFrom(name), flags),
                    callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code ftruncate(fd, size)}: 0 or {@code -errno}. */
    public static int truncate(int fd, long size, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.FTRUNCATE.invokeExact(callState, fd, size), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * The size of the file behind {@code fd} ({@code statx} of the fd itself): bytes, or {@code -errno}. Check it
     * before mapping an fd someone else passed: touching a mapping beyond the file's end raises SIGBUS.
     */
    public static long size(int fd, MemorySegment callState) {
        return statx(fd, STX_SIZE, callState);
    }

    /**
     * The block size of the file behind {@code fd}: the page size of its memory (a huge page on hugetlbfs, where a
     * mapping's offset and length must be multiples of it), or {@code -errno}.
     */
    public static long blockSize(int fd, MemorySegment callState) {
        return statx(fd, STX_BLKSIZE, callState);
    }

    private static long statx(int fd, long field, MemorySegment callState) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stx = arena.allocate(STATX_BYTES, 8);
            int rc = (int) Libc.orErrno((int) Libc.STATX.invokeExact(callState, fd, arena.allocateFrom(""),
                    AT_EMPTY_PATH, STATX_SIZE, stx), callState);
            if (rc < 0) {
                return rc;
            }
            return field == STX_BLKSIZE ? Integer.toUnsignedLong(stx.get(ValueLayout.JAVA_INT, field))
                    : stx.get(ValueLayout.JAVA_LONG, field);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Maps {@code size} bytes of {@code fd} from {@code offset}, read-write and shared: the mapping, or
     * {@link MemorySegment#NULL} on failure (errno in {@code callState}). Unmap it with {@link #unmap}; the fd may be
     * closed once mapped.
     */
    public static MemorySegment mapShared(int fd, long offset, long size, MemorySegment callState) {
        try {
            MemorySegment p = (MemorySegment) Libc.MMAP.invokeExact(callState, MemorySegment.NULL, size,
                    Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, offset);
            return p.address() == Libc.MAP_FAILED ? MemorySegment.NULL : p.reinterpret(size);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code munmap(mapping, size)}: 0 or {@code -errno}. */
    public static int unmap(MemorySegment mapping, MemorySegment callState) {
        try {
            return (int) Libc.orErrno((int) Libc.MUNMAP.invokeExact(callState, mapping, mapping.byteSize()), callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
