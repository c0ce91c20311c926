package io.keel.vhost.testing;

import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.vhost.memory.RegionSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A fake guest's RAM, as QEMU has it: a memfd the test maps (the "guest" writes rings and buffers through it) and
 * passes to the back end, at a guest-physical address and a pretend QEMU virtual address.
 */
public final class GuestRam implements AutoCloseable {
    /** Where QEMU would have guest-physical 0 in its address space (any value: only translation uses it). */
    public static final long QEMU_VA_OFFSET = 0x7f00_0000_0000L;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final int fd;
    private final MemorySegment bytes;
    private final long guestPhys;

    public GuestRam(long guestPhys, long size) {
        this.guestPhys = guestPhys;
        fd = SharedMemory.memfdCreate("guest-ram", SharedMemory.MFD_CLOEXEC, callState);
        if (fd < 0 || SharedMemory.truncate(fd, size, callState) != 0) {
            throw new IllegalStateException("memfd: " + Libc.strerror(-fd));
        }
        bytes = SharedMemory.mapShared(fd, 0, size, callState);
    }

    public int fd() {
        return fd;
    }

    /** The whole RAM as one region (mmap offset 0). */
    public RegionSpec region() {
        return region(0, bytes.byteSize());
    }

    /** A region of {@code size} bytes from {@code offset} of the memfd. */
    public RegionSpec region(long offset, long size) {
        return new RegionSpec(guestPhys + offset, size, QEMU_VA_OFFSET + guestPhys + offset, offset);
    }

    /** The guest's view: byte at guest-physical address {@code gpa} is {@code bytes().get(gpa - base())}. */
    public MemorySegment bytes() {
        return bytes;
    }

    public long base() {
        return guestPhys;
    }

    /** QEMU's virtual address of guest-physical {@code gpa}. */
    public static long qemuVa(long gpa) {
        return QEMU_VA_OFFSET + gpa;
    }

    @Override
    public void close() {
        SharedMemory.unmap(bytes, callState);
        Libc.closeQuietly(fd);
        arena.close();
    }
}
