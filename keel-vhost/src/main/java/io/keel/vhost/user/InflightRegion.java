package io.keel.vhost.user;

import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.vhost.virtio.InflightRing;
import java.lang.foreign.MemorySegment;

/**
 * The shared region in which the back end records the requests it has in flight (INFLIGHT_SHMFD): made by the back
 * end on GET_INFLIGHT_FD (a memfd the front end keeps), or mapped from the fd the front end passes back on
 * SET_INFLIGHT_FD after a reconnect. One {@link InflightRing} area per queue, {@link InflightRing#bytes} each.
 */
final class InflightRegion {
    private final MemorySegment mapping;
    private final int queues;
    private final int queueSize;

    private InflightRegion(MemorySegment mapping, int queues, int queueSize) {
        this.mapping = mapping;
        this.queues = queues;
        this.queueSize = queueSize;
    }

    static long bytes(int queues, int queueSize) {
        return queues * InflightRing.bytes(queueSize);
    }

    /** A new zeroed region, mapped here, with its fd in {@code fdOut[0]} (for the reply; the caller closes it). */
    static InflightRegion create(int queues, int queueSize, int[] fdOut, MemorySegment callState) {
        int fd = SharedMemory.memfdCreate("keel-vhost-inflight", SharedMemory.MFD_CLOEXEC, callState);
        if (fd < 0) {
            throw new IllegalArgumentException("memfd_create: " + Libc.strerror(-fd));
        }
        long size = bytes(queues, queueSize);
        int rc = SharedMemory.truncate(fd, size, callState);
        if (rc < 0) {
            Libc.closeQuietly(fd);
            throw new IllegalArgumentException("ftruncate of the inflight region: " + Libc.strerror(-rc));
        }
        InflightRegion region = map(fd, size, 0, queues, queueSize, callState);
        for (int q = 0; q < queues; q++) {
            InflightRing.initialize(region.queue(q), queueSize);
        }
        fdOut[0] = fd;
        return region;
    }

    /** Maps a region the front end passes; the fd stays the caller's. */
    static InflightRegion map(int fd, long size, long offset, int queues, int queueSize, MemorySegment callState) {
        if (size < bytes(queues, queueSize) || offset < 0 || offset % 4096 != 0) {
            throw new IllegalArgumentException("an inflight region of " + size + " bytes at offset " + offset + " for "
                    + queues + " queues of " + queueSize);
        }
        long fileSize = SharedMemory.size(fd, callState);
        if (fileSize < 0 || offset + size > fileSize) {
            throw new IllegalArgumentException("the inflight region goes past the end of its fd");
        }
        MemorySegment m = SharedMemory.mapShared(fd, offset, size, callState);
        if (m.equals(MemorySegment.NULL)) {
            int errno = Libc.errno(callState);
            throw new IllegalArgumentException("cannot map the inflight region: " + Libc.strerror(errno));
        }
        return new InflightRegion(m, queues, queueSize);
    }

    long size() {
        return mapping.byteSize();
    }

    /** Queue {@code q}'s area, or null when the region has none for it or was sized for another queue size. */
    MemorySegment queue(int q, int size) {
        return q < queues && size == queueSize ? queue(q) : null;
    }

    private MemorySegment queue(int q) {
        long per = InflightRing.bytes(queueSize);
        return mapping.asSlice(q * per, per);
    }

    void unmap(MemorySegment callState) {
        SharedMemory.unmap(mapping, callState);
    }
}
