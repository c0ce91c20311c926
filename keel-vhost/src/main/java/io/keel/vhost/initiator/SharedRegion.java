package io.keel.vhost.initiator;

import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.vhost.memory.RegionSpec;
import java.lang.foreign.MemorySegment;

/**
 * Memory the virtio-user initiator shares with the back end: a memfd mapped MAP_SHARED here, whose fd goes to the
 * back end in SET_MEM_TABLE. Our virtual addresses serve as guest-physical and user addresses alike, so a descriptor
 * carries the address we write through. Pages are only allocated as they are touched (a memfd is sparse). Released
 * by its owner once nothing uses it (rule R10).
 */
final class SharedRegion {
    private final int fd;
    private final MemorySegment bytes;
    private boolean released;

    private SharedRegion(int fd, MemorySegment bytes) {
        this.fd = fd;
        this.bytes = bytes;
    }

    /** A region of {@code size} bytes (a multiple of the page size), or an error naming the failed call. */
    static SharedRegion create(String name, long size, MemorySegment callState) {
        int fd = SharedMemory.memfdCreate("keel-virtio-" + name, SharedMemory.MFD_CLOEXEC, callState);
        if (fd < 0) {
            throw new IllegalStateException("memfd_create: " + Libc.strerror(-fd));
        }
        int rc = SharedMemory.truncate(fd, size, callState);
        if (rc != 0) {
            Libc.closeQuietly(fd);
            throw new IllegalStateException("ftruncate of " + size + " bytes: " + Libc.strerror(-rc));
        }
        MemorySegment m = SharedMemory.mapShared(fd, 0, size, callState);
        if (m.equals(MemorySegment.NULL)) {
            Libc.closeQuietly(fd);
            throw new IllegalStateException("mmap of " + size + " bytes failed");
        }
        return new SharedRegion(fd, m);
    }

    int fd() {
        return fd;
    }

    MemorySegment bytes() {
        return bytes;
    }

    /** Our address of byte {@code offset}: what descriptors and ring addresses carry. */
    long address(long offset) {
        return bytes.address() + offset;
    }

    /** The region as the memory table's one entry. */
    RegionSpec spec() {
        return new RegionSpec(bytes.address(), bytes.byteSize(), bytes.address(), 0);
    }

    /** Unmaps and closes the fd (idempotent). */
    void release(MemorySegment callState) {
        if (released) {
            return;
        }
        released = true;
        SharedMemory.unmap(bytes, callState);
        Libc.closeQuietly(fd);
    }
}
