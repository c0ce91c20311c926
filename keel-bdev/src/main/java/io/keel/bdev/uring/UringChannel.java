package io.keel.bdev.uring;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.core.mem.NativeArena;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's io_uring, shared by every uring bdev the thread uses (SPDK's uring group channel). I/Os are
 * prepared as they are submitted and handed to the kernel in one {@code io_uring_enter} per poll (batched);
 * completions are reaped from the mapped ring without a system call. The poller runs only while I/O is
 * queued or in flight. Owner thread only; nothing is allocated per I/O (except a bounce buffer the first
 * time a slot needs one).
 *
 * <p>The ring, the iovec arrays and the bounce buffers are the kernel's to write into until each I/O is reaped,
 * so they are released only once the ring is empty: {@link #release} waits (the poller keeps reaping, through
 * the thread's exit too) rather than unmap memory the kernel may still complete into. The bdev layer drains its
 * channels before it puts this one, so normally the ring is already empty.
 */
final class UringChannel implements CompletionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(UringChannel.class);
    static final int RING_ENTRIES = 256;

    private final IoUring ring;
    private final NativeArena arena = new NativeArena();
    private final BdevIo[] inFlight;
    private final IoVecArray[] iovecs;
    private final MemorySegment[] bounce;
    private final boolean[] bounced;
    private final int[] freeSlots;
    private int freeCount;
    private final Poller poller;
    /** Set by {@link #release} while the ring still has I/O; run once it is empty. */
    private Runnable onReleased;

    UringChannel(KeelThread thread) {
        try {
            ring = IoUring.open(RING_ENTRIES);
        } catch (IoUringUnavailableException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        int slots = ring.cqEntries();
        inFlight = new BdevIo[slots];
        iovecs = new IoVecArray[slots];
        bounce = new MemorySegment[slots];
        bounced = new boolean[slots];
        freeSlots = new int[slots];
        for (int i = slots - 1; i >= 0; i--) {
            iovecs[i] = IoVecArray.allocate(arena, BdevIo.MAX_IOVS);
            freeSlots[freeCount++] = i;
        }
        poller = thread.registerPoller("bdev_uring_poller", this::poll);
        poller.pause();
    }

    /** Prepares {@code io} against {@code bdev}'s file; answers NOMEM when the ring is full (the layer retries). */
    void submit(UringBdev bdev, BdevIo io) {
        if (io.type() == IoType.RESET) {
            io.complete(BdevIoStatus.SUCCESS); // nothing is queued in Keel that a reset could drop
            return;
        }
        if (freeCount == 0) {
            io.complete(BdevIoStatus.NOMEM);
            return;
        }
        int slot = freeSlots[--freeCount];
        boolean prepared = prepare(bdev, io, slot);
        if (!prepared) {
            freeSlots[freeCount++] = slot;
            io.complete(BdevIoStatus.NOMEM);
            return;
        }
        inFlight[slot] = io;
        io.moduleContext = bdev;
        poller.resume();
    }

    private boolean prepare(UringBdev bdev, BdevIo io, int slot) {
        int fd = bdev.file().fd();
        if (io.type() == IoType.FLUSH) {
            bounced[slot] = false;
            return ring.prepareFsync(fd, true, slot); // data on stable storage: fdatasync
        }
        long len = io.lengthBytes();
        long offset = io.offsetBlocks() * bdev.blockSize();
        boolean write = io.type() == IoType.WRITE;
        if (!aligned(bdev.file(), io)) {
            // O_DIRECT needs aligned buffers: go through this slot's aligned bounce buffer
            MemorySegment b = bounceFor(slot, len);
            if (write) {
                io.copyFromBuffers(b, 0);
            }
            bounced[slot] = true;
            return write ? ring.prepareWrite(fd, b, len, offset, slot) : ring.prepareRead(fd, b, len, offset, slot);
        }
        bounced[slot] = false;
        if (io.iovCount() == 1 && io.iovOffset(0) == 0) {
            return write ? ring.prepareWrite(fd, io.iov(0), len, offset, slot)
                    : ring.prepareRead(fd, io.iov(0), len, offset, slot);
        }
        IoVecArray v = iovecs[slot];
        for (int i = 0; i < io.iovCount(); i++) {
            v.set(i, io.iov(i), io.iovOffset(i), io.iovLength(i));
        }
        return write ? ring.prepareWritev(fd, v, io.iovCount(), offset, slot)
                : ring.prepareReadv(fd, v, io.iovCount(), offset, slot);
    }

    private static boolean aligned(NativeFile f, BdevIo io) {
        int bufferAlign = f.bufferAlignment();
        int ioAlign = f.ioAlignment();
        for (int i = 0; i < io.iovCount(); i++) {
            if ((io.iov(i).address() + io.iovOffset(i)) % bufferAlign != 0 || io.iovLength(i) % ioAlign != 0) {
                return false;
            }
        }
        return true;
    }

    private MemorySegment bounceFor(int slot, long len) {
        MemorySegment b = bounce[slot];
        if (b == null || b.byteSize() < len) {
            b = arena.allocate(Math.max(len, 4096), 4096);
            bounce[slot] = b;
        }
        return b;
    }

    private int poll() {
        int work = 0;
        if (ring.queued() > 0) {
            work += ring.submit();
        }
        work += ring.reap(this, RING_ENTRIES);
        if (ring.queued() == 0 && ring.inFlight() == 0) {
            poller.pause();
            if (onReleased != null) {
                closeNow();
            }
        }
        return work > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    @Override
    public void complete(long userData, int res) {
        int slot = (int) userData;
        BdevIo io = inFlight[slot];
        inFlight[slot] = null;
        boolean ok = io.type() == IoType.FLUSH ? res == 0 : res == io.lengthBytes();
        if (ok && bounced[slot] && io.type() == IoType.READ) {
            io.copyToBuffers(bounce[slot], 0);
        }
        freeSlots[freeCount++] = slot;
        if (!ok) {
            LOG.warn("uring bdev {}: {} at block {} failed: {}", ((UringBdev) io.moduleContext).name(), io.type(),
                    io.offsetBlocks(), res < 0 ? Errno.describe(-res) : "short transfer of " + res + " bytes");
        }
        io.complete(ok ? BdevIoStatus.SUCCESS : BdevIoStatus.FAILED);
    }

    /** The io_device release: closes the ring at once if it is empty, else once the kernel has completed all. */
    void release(Runnable released) {
        onReleased = released;
        if (ring.queued() == 0 && ring.inFlight() == 0) {
            closeNow();
        } else {
            LOG.warn("uring channel released with {} I/O in the ring: closing once they complete",
                    ring.queued() + ring.inFlight());
            poller.resume();
        }
    }

    private void closeNow() {
        poller.unregister();
        ring.close();
        arena.close();
        Runnable released = onReleased;
        onReleased = null;
        released.run();
    }

    @Override
    public String toString() {
        return "io_uring with " + ring.queued() + " queued and " + ring.inFlight() + " in flight";
    }
}
