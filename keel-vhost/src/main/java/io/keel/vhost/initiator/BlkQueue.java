package io.keel.vhost.initiator;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.virtio.SplitRing;
import io.keel.vhost.virtio.SplitRingDriver;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One virtqueue of a virtio-blk device, driven from our side: its split ring and its request slots in the shared
 * region. A slot is one request in flight: descriptors {@code slot × D} to {@code slot × D + D - 1} (D = header, data
 * descriptors, status byte), 64 bytes of header, range and status, and a bounce buffer of the most data a request
 * carries. Data is copied into the bounce buffer for a write and out of it for a read: the back end reads and writes
 * only memory we gave it, so a bdev_io's own buffers (anywhere in the process) never go to the back end, and a back
 * end still writing after we gave up on it writes into memory no one else uses.
 *
 * <p>A bdev_io larger than a request goes as several requests one after another on its slot
 * ({@link BdevIo#moduleValue} counts the blocks done); a slot is taken at submission and freed when the I/O ends. No
 * free slot: the caller answers NOMEM, which the bdev layer re-drives. Owned by one bdev channel at a time (its
 * thread); nothing is allocated per I/O.
 *
 * <p>Notifications: a submission publishes the available index at once and leaves the kick to {@link #poll}, after
 * the completions it reaps (whose callbacks often submit again), so a burst of submissions costs one eventfd write,
 * and none while the back end says it needs none (VRING_USED_F_NO_NOTIFY). In poll mode the driver asks for no calls
 * (VRING_AVAIL_F_NO_INTERRUPT); in interrupt mode it leaves calls on and the channel watches the call eventfd.
 */
final class BlkQueue {
    private static final Logger LOG = LoggerFactory.getLogger(BlkQueue.class);
    static final long SLOT_META_BYTES = 64;
    private static final long HEADER = 0;
    private static final long RANGE = 16;
    private static final long STATUS = 32;
    private static final byte NO_STATUS = (byte) 0xff;
    private static final long PAGE = 4096;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    final int index;
    final int kickFd;
    final int callFd;
    private final BlkGeometry geometry;
    private final SharedRegion region;
    private final MemorySegment mem;
    private final SplitRingDriver ring;
    private final long ringOffset;
    private final long metaOffset;
    private final long dataOffset;
    private final int descsPerSlot;
    private final int sectorsPerBlock;
    private final long transferBlocks;
    private final MemorySegment callState;
    private final MemorySegment count;
    private final BdevIo[] ios;
    /** Blocks the request in flight on each slot covers. */
    private final long[] slotBlocks;
    private final int[] free;
    private int freeCount;
    private int lastUsed;
    private boolean kickPending;
    private boolean dead;
    private long strayCompletions;

    /** Bytes one queue of {@code size} entries takes in the region (page-aligned parts). */
    static long bytes(int size, BlkGeometry g) {
        int slots = size / g.descriptorsPerRequest();
        return align(SplitRingDriver.bytes(size)) + align(slots * SLOT_META_BYTES) + (long) slots * g.maxTransferBytes();
    }

    private static long align(long n) {
        return (n + PAGE - 1) & ~(PAGE - 1);
    }

    /**
     * Queue {@code index} of {@code size} entries at {@code offset} of {@code region}, with its eventfds (owned by the
     * controller) and call state and count buffers for them. {@code polled}: ask the back end for no calls.
     */
    BlkQueue(int index, int size, BlkGeometry g, SharedRegion region, long offset, int kickFd, int callFd,
            MemorySegment callState, MemorySegment count, boolean polled) {
        this.index = index;
        this.kickFd = kickFd;
        this.callFd = callFd;
        this.geometry = g;
        this.region = region;
        this.mem = region.bytes();
        this.ringOffset = offset;
        this.ring = new SplitRingDriver(mem.asSlice(offset, SplitRingDriver.bytes(size)), size);
        this.descsPerSlot = g.descriptorsPerRequest();
        int slots = size / descsPerSlot;
        this.metaOffset = offset + align(SplitRingDriver.bytes(size));
        this.dataOffset = metaOffset + align(slots * SLOT_META_BYTES);
        this.sectorsPerBlock = g.blockSize() / VirtioBlk.SECTOR_BYTES;
        this.transferBlocks = g.maxTransferBytes() / g.blockSize();
        this.callState = callState;
        this.count = count;
        this.ios = new BdevIo[slots];
        this.slotBlocks = new long[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            free[freeCount++] = slots - 1 - i;
        }
        ring.availFlags(polled ? SplitRing.AVAIL_F_NO_INTERRUPT : 0);
    }

    long descAddr() {
        return region.address(ringOffset);
    }

    long availAddr() {
        return region.address(ringOffset + SplitRingDriver.availOffset(ring.size()));
    }

    long usedAddr() {
        return region.address(ringOffset + SplitRingDriver.usedOffset(ring.size()));
    }

    /** Starts {@code io}: false when no slot is free (the caller answers NOMEM). */
    boolean submit(BdevIo io) {
        if (freeCount == 0) {
            return false;
        }
        int slot = free[--freeCount];
        ios[slot] = io;
        io.moduleValue = 0;
        issue(slot, io);
        return true;
    }

    /** Puts the next request of {@code io} (from block {@code io.moduleValue} on) on {@code slot}. */
    private void issue(int slot, BdevIo io) {
        long done = io.moduleValue;
        long left = io.numBlocks() - done;
        int head = slot * descsPerSlot;
        long meta = metaOffset + slot * SLOT_META_BYTES;
        long header = region.address(meta + HEADER);
        long status = region.address(meta + STATUS);
        long sector = (io.offsetBlocks() + done) * sectorsPerBlock;
        mem.set(ValueLayout.JAVA_BYTE, meta + STATUS, NO_STATUS);
        mem.set(U32, meta + HEADER + 4, 0);
        mem.set(U64, meta + HEADER + 8, sector);
        long blocks;
        switch (io.type()) {
            case READ, WRITE -> {
                boolean read = io.type() == IoType.READ;
                blocks = Math.min(left, transferBlocks);
                int bytes = (int) (blocks * geometry.blockSize());
                long data = dataOffset + (long) slot * geometry.maxTransferBytes();
                if (!read) {
                    copyFromIo(io, done * geometry.blockSize(), mem, data, bytes);
                }
                mem.set(U32, meta + HEADER, read ? VirtioBlk.T_IN : VirtioBlk.T_OUT);
                ring.desc(head, header, VirtioBlk.HEADER_BYTES, SplitRing.DESC_F_NEXT, head + 1);
                int d = head + 1;
                int seg = geometry.segmentBytes();
                for (int at = 0; at < bytes; at += seg, d++) {
                    ring.desc(d, region.address(data + at), Math.min(seg, bytes - at),
                            SplitRing.DESC_F_NEXT | (read ? SplitRing.DESC_F_WRITE : 0), d + 1);
                }
                ring.desc(d, status, 1, SplitRing.DESC_F_WRITE, 0);
            }
            case UNMAP, WRITE_ZEROES -> {
                boolean unmap = io.type() == IoType.UNMAP;
                blocks = Math.min(left, unmap ? geometry.maxDiscardBlocks() : geometry.maxWriteZeroesBlocks());
                mem.set(U32, meta + HEADER, unmap ? VirtioBlk.T_DISCARD : VirtioBlk.T_WRITE_ZEROES);
                mem.set(U64, meta + RANGE, sector);
                mem.set(U32, meta + RANGE + 8, (int) (blocks * sectorsPerBlock));
                mem.set(U32, meta + RANGE + 12, 0);
                ring.desc(head, header, VirtioBlk.HEADER_BYTES, SplitRing.DESC_F_NEXT, head + 1);
                ring.desc(head + 1, region.address(meta + RANGE), VirtioBlk.RANGE_BYTES, SplitRing.DESC_F_NEXT,
                        head + 2);
                ring.desc(head + 2, status, 1, SplitRing.DESC_F_WRITE, 0);
            }
            case FLUSH -> {
                blocks = left;
                mem.set(U32, meta + HEADER, VirtioBlk.T_FLUSH);
                mem.set(U64, meta + HEADER + 8, 0L);
                ring.desc(head, header, VirtioBlk.HEADER_BYTES, SplitRing.DESC_F_NEXT, head + 1);
                ring.desc(head + 1, status, 1, SplitRing.DESC_F_WRITE, 0);
            }
            default -> throw new IllegalStateException("virtio-blk has no " + io.type());
        }
        slotBlocks[slot] = blocks;
        ring.makeAvailable(head);
        ring.publish();
        kickPending = true;
    }

    /**
     * Ends the requests the back end finished, then kicks it if a submission awaits it (those its completions made
     * included): work done (0 = none).
     */
    int poll() {
        if (dead) {
            return 0;
        }
        int work = 0;
        int used = ring.usedIdx();
        while (lastUsed != used) {
            int head = ring.usedId(lastUsed);
            lastUsed = (lastUsed + 1) & 0xffff;
            int slot = head / descsPerSlot;
            if (head < 0 || head % descsPerSlot != 0 || slot >= ios.length || ios[slot] == null) {
                strayCompletion(head);
            } else {
                completed(slot);
            }
            work = 1;
        }
        if (kickPending && !dead) {
            kickPending = false;
            if (ring.deviceWantsKick()) {
                EventFd.write(kickFd, 1, count, callState);
            }
            work = 1;
        }
        return work;
    }

    /** A used entry for no request of ours: the back end is broken; logged (the first, then every power of two). */
    private void strayCompletion(int head) {
        long n = ++strayCompletions;
        if (Long.bitCount(n) == 1) {
            LOG.error("virtio queue {}: the back end returned head {}, which is no request in flight ({} so far)", index,
                    head, n);
        }
    }

    /** Takes the call eventfd's count (interrupt mode), then polls. */
    int onCall() {
        EventFd.read(callFd, count, callState);
        return poll();
    }

    private void completed(int slot) {
        BdevIo io = ios[slot];
        long meta = metaOffset + slot * SLOT_META_BYTES;
        if (mem.get(ValueLayout.JAVA_BYTE, meta + STATUS) != VirtioBlk.S_OK) {
            end(slot, io, BdevIoStatus.FAILED);
            return;
        }
        long blocks = slotBlocks[slot];
        if (io.type() == IoType.READ) {
            copyToIo(mem, dataOffset + (long) slot * geometry.maxTransferBytes(), io,
                    io.moduleValue * geometry.blockSize(), (int) (blocks * geometry.blockSize()));
        }
        io.moduleValue += blocks;
        if (io.moduleValue < io.numBlocks() && io.type() != IoType.FLUSH) {
            issue(slot, io);
        } else {
            end(slot, io, BdevIoStatus.SUCCESS);
        }
    }

    private void end(int slot, BdevIo io, BdevIoStatus s) {
        ios[slot] = null;
        free[freeCount++] = slot;
        io.complete(s);
    }

    /** The back end is gone: every request in flight fails, and the queue takes no more. */
    void failAll() {
        dead = true;
        for (int slot = 0; slot < ios.length; slot++) {
            BdevIo io = ios[slot];
            if (io != null) {
                ios[slot] = null;
                io.complete(BdevIoStatus.FAILED);
            }
        }
        freeCount = 0;
        kickPending = false;
    }

    /** Closes the queue's eventfds (the controller's release, once no channel holds the queue). */
    void closeFds() {
        Libc.closeQuietly(kickFd);
        Libc.closeQuietly(callFd);
    }

    /** Copies {@code len} bytes of {@code io}'s data from byte {@code from} into {@code dst} at {@code at}. */
    private static void copyFromIo(BdevIo io, long from, MemorySegment dst, long at, int len) {
        for (int i = 0; i < io.iovCount() && len > 0; i++) {
            long l = io.iovLength(i);
            if (from >= l) {
                from -= l;
                continue;
            }
            int take = (int) Math.min(l - from, len);
            MemorySegment.copy(io.iov(i), io.iovOffset(i) + from, dst, at, take);
            at += take;
            len -= take;
            from = 0;
        }
    }

    /** Copies {@code len} bytes from {@code src} at {@code at} into {@code io}'s data from byte {@code from}. */
    private static void copyToIo(MemorySegment src, long at, BdevIo io, long from, int len) {
        for (int i = 0; i < io.iovCount() && len > 0; i++) {
            long l = io.iovLength(i);
            if (from >= l) {
                from -= l;
                continue;
            }
            int take = (int) Math.min(l - from, len);
            MemorySegment.copy(src, at, io.iov(i), io.iovOffset(i) + from, take);
            at += take;
            len -= take;
            from = 0;
        }
    }
}
