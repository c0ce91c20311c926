package io.keel.vhost.blk;

import static io.keel.vhost.blk.VirtioBlk.HEADER_BYTES;
import static io.keel.vhost.blk.VirtioBlk.SECTOR_BYTES;
import static io.keel.vhost.blk.VirtioBlk.S_IOERR;
import static io.keel.vhost.blk.VirtioBlk.S_OK;
import static io.keel.vhost.blk.VirtioBlk.S_UNSUPP;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.IoType;
import io.keel.bdev.exec.DrainListener;
import io.keel.bdev.exec.RequestDone;
import io.keel.bdev.exec.RequestExecutor;
import io.keel.bdev.exec.RequestStatus;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.user.VhostUserDevice;
import io.keel.vhost.virtio.Virtqueue;
import io.keel.vhost.virtio.VirtqueueRequest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A virtio-blk device over a bdev for one vhost-user session: it decodes the requests the session's virtqueues pop,
 * checks them, and runs them through a {@link RequestExecutor} on the session's thread with guest memory handed to
 * the bdev layer in place. Every queue of the session shares the thread's one bdev channel.
 *
 * <p>A request that cannot be served ends with its status byte and touches no bdev: too short for a header and a
 * status byte, data not a whole number of sectors or blocks, past the end, a write to a read-only device, a bdev that
 * was removed ({@code IOERR}); an unknown type ({@code UNSUPP}). Each is logged, at most once a second.
 *
 * <p>Lifetime: made on the session's thread when the session starts; {@link #release} (the session ended) or
 * {@link #bdevRemoved} lets requests at the bdev finish, fails new ones, then puts the channel and tells the owner.
 * Owner thread only.
 */
public final class VirtioBlkDevice implements VhostUserDevice, RequestDone<BlkIo> {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlkDevice.class);
    /**
     * Data segments a driver may put in one request (seg_max): what one bdev_io carries, less two for buffers
     * split where guest memory regions meet.
     */
    public static final int SEG_MAX = BdevIo.MAX_IOVS - 2;
    /** Segments of one request: its data's as the bdev layer takes them, the header's and the status byte's. */
    public static final int MAX_SEGMENTS = BdevIo.MAX_IOVS + 2;
    /** Entries of one discard or write zeroes table. */
    public static final int MAX_RANGES = 16;
    /** Sectors of one discard or write zeroes entry (2 GiB). */
    public static final int MAX_RANGE_SECTORS = 1 << 22;
    /** How long a release waits for requests at the bdev before it says so (it still waits). */
    public static final long DRAIN_BOUND_NANOS = 5_000_000_000L;
    private static final int EXECUTOR_DEPTH = 128;

    private final String name;
    private final KeelThread thread;
    private final BdevDesc desc;
    private final Bdev bdev;
    private final boolean readonly;
    private final int queues;
    private final long capacitySectors;
    private final int blockSize;
    /** log2 of the block size (a power of two): shifts, not divisions, on the data path. */
    private final int blockShift;
    private final NativeArena arena = new NativeArena();
    private final VirtioBlkConfig config;
    private final MemorySegment id;
    private final BlkRanges rangeFormat;
    private final ProblemLog problems;
    private final RequestExecutor<BlkIo> executor;
    private final IoChannel<BdevChannel> channelRef;
    private final BdevChannel channel;
    private BlkIo free;
    private boolean removed;
    private boolean releasing;
    private boolean channelPut;

    /**
     * A device of {@code queues} virtqueues over {@code desc}'s bdev, on the calling thread (the session's); its
     * requests fail IOERR from the start if {@code removed} (the bdev went before the session came).
     */
    public VirtioBlkDevice(String name, BdevDesc desc, boolean readonly, int queues) {
        this.name = name;
        this.thread = KeelThread.current();
        this.desc = desc;
        this.bdev = desc.bdev();
        this.readonly = readonly;
        this.queues = queues;
        this.blockSize = bdev.blockSize();
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.capacitySectors = bdev.numBlocks() * (blockSize / SECTOR_BYTES);
        this.rangeFormat = new BlkRanges(blockSize);
        this.problems = new ProblemLog(LOG, name);
        int sectorsPerBlock = blockSize / SECTOR_BYTES;
        config = new VirtioBlkConfig(arena).capacity(capacitySectors).segMax(SEG_MAX).blkSize(blockSize)
                .numQueues(queues).maxDiscardSectors(MAX_RANGE_SECTORS).maxDiscardSeg(MAX_RANGES)
                .discardSectorAlignment(sectorsPerBlock).maxWriteZeroesSectors(MAX_RANGE_SECTORS)
                .maxWriteZeroesSeg(MAX_RANGES).writeZeroesMayUnmap(true).writeback(bdev.writeCache());
        id = arena.allocate(VirtioBlk.ID_BYTES);
        byte[] serial = bdev.name().getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(serial, 0, id, ValueLayout.JAVA_BYTE, 0, Math.min(serial.length, VirtioBlk.ID_BYTES));
        executor = new RequestExecutor<>(name, EXECUTOR_DEPTH, this);
        channelRef = desc.getIoChannel();
        channel = channelRef.context();
    }

    // ---- what the vhost-user connection asks ----

    @Override
    public long deviceFeatures() {
        long f = bit(VirtioBlkFeatures.SEG_MAX) | bit(VirtioBlkFeatures.BLK_SIZE) | bit(VirtioBlkFeatures.MQ);
        if (readonly) {
            f |= bit(VirtioBlkFeatures.RO);
        }
        if (bdev.supports(IoType.FLUSH)) {
            f |= bit(VirtioBlkFeatures.FLUSH);
        }
        if (!readonly && bdev.supports(IoType.UNMAP)) {
            f |= bit(VirtioBlkFeatures.DISCARD);
        }
        if (!readonly && bdev.supports(IoType.WRITE_ZEROES)) {
            f |= bit(VirtioBlkFeatures.WRITE_ZEROES);
        }
        return f;
    }

    private static long bit(int n) {
        return 1L << n;
    }

    @Override
    public int maxQueues() {
        return queues;
    }

    @Override
    public int maxSegments() {
        return MAX_SEGMENTS;
    }

    @Override
    public MemorySegment configSpace() {
        return config.bytes();
    }

    /** The config space is read-only here (no CONFIG_WCE): a write is refused. */
    @Override
    public int writeConfig(int offset, MemorySegment data) {
        return -Errno.EPERM;
    }

    // ---- requests ----

    @Override
    public void onRequest(Virtqueue queue, VirtqueueRequest r) {
        BlkIo io = take(r);
        if (r.readableBytes() < HEADER_BYTES || r.writableBytes() < 1) {
            fail(io, S_IOERR, "no room for the header and the status byte", 0, r.readableBytes());
            return;
        }
        // each field read from the guest once; a header split over descriptors is gathered first
        MemorySegment header = r.base(0);
        long at = r.offset(0);
        if (r.length(0) < HEADER_BYTES) {
            BlkIo.gather(r, 0, io.header, HEADER_BYTES);
            header = io.header;
            at = 0;
        }
        int type = header.get(ValueLayout.JAVA_INT_UNALIGNED, at);
        long sector = header.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8);
        if (removed || releasing) {
            fail(io, S_IOERR, removed ? "the bdev was removed" : "the session is ending", sector, 0);
            return;
        }
        switch (type) {
            case VirtioBlk.T_IN -> read(io, r, sector);
            case VirtioBlk.T_OUT -> write(io, r, sector);
            case VirtioBlk.T_FLUSH -> flush(io);
            case VirtioBlk.T_GET_ID -> getId(io, r);
            case VirtioBlk.T_DISCARD, VirtioBlk.T_WRITE_ZEROES -> ranges(io, r, type);
            default -> fail(io, S_UNSUPP, "unsupported request type " + type, sector, 0);
        }
    }

    private void read(BlkIo io, VirtqueueRequest r, long sector) {
        long bytes = r.writableBytes() - 1;
        if (!checkData(io, sector, bytes)) {
            return;
        }
        io.usedLength = (int) (bytes + 1);
        if (bytes == 0) {
            end(io, S_OK);
            return;
        }
        int first = r.readableCount();
        int status = r.segmentCount() - 1;
        if (r.length(status) == 1) { // the status byte in a descriptor of its own: the data are the ones before it
            executor.readv(io, desc, channel, r.bases(), r.offsets(), r.lengths(), first, status - first,
                    blocks(sector), bytes >>> blockShift);
            return;
        }
        io.pieces(r, first, r.segmentCount(), 0, bytes);
        executor.readv(io, desc, channel, io.bases, io.offsets, io.lengths, 0, io.pieces, blocks(sector),
                bytes >>> blockShift);
    }

    private void write(BlkIo io, VirtqueueRequest r, long sector) {
        long bytes = r.readableBytes() - HEADER_BYTES;
        if (readonly) {
            fail(io, S_IOERR, "a write to a read-only device", sector, bytes);
            return;
        }
        if (!checkData(io, sector, bytes)) {
            return;
        }
        io.usedLength = 1;
        if (bytes == 0) {
            end(io, S_OK);
            return;
        }
        if (r.length(0) == HEADER_BYTES) { // the header in a descriptor of its own: the data are the ones after it
            executor.writev(io, desc, channel, r.bases(), r.offsets(), r.lengths(), 1, r.readableCount() - 1,
                    blocks(sector), bytes >>> blockShift);
            return;
        }
        io.pieces(r, 0, r.readableCount(), HEADER_BYTES, bytes);
        executor.writev(io, desc, channel, io.bases, io.offsets, io.lengths, 0, io.pieces, blocks(sector),
                bytes >>> blockShift);
    }

    /** Whether {@code bytes} at {@code sector} is whole blocks inside the device; if not, the request has ended. */
    private boolean checkData(BlkIo io, long sector, long bytes) {
        if (bytes % SECTOR_BYTES != 0) {
            fail(io, S_IOERR, "data not a multiple of 512 bytes", sector, bytes);
            return false;
        }
        if (sector < 0 || sector > capacitySectors || bytes / SECTOR_BYTES > capacitySectors - sector) {
            fail(io, S_IOERR, "past the end of the device (" + capacitySectors + " sectors)", sector, bytes);
            return false;
        }
        if (((sector * SECTOR_BYTES | bytes) & (blockSize - 1)) != 0) {
            fail(io, S_IOERR, "not whole blocks of " + blockSize + " bytes", sector, bytes);
            return false;
        }
        return true;
    }

    private long blocks(long sector) {
        return sector * SECTOR_BYTES >>> blockShift;
    }

    private void flush(BlkIo io) {
        io.usedLength = 1;
        if (!bdev.supports(IoType.FLUSH)) {
            end(io, S_OK); // nothing is cached below: every write is already durable
            return;
        }
        executor.flush(io, desc, channel, 0, bdev.numBlocks());
    }

    private void getId(BlkIo io, VirtqueueRequest r) {
        long room = Math.min(VirtioBlk.ID_BYTES, r.writableBytes() - 1);
        BlkIo.scatter(id, room, r);
        io.usedLength = (int) room + 1;
        end(io, S_OK);
    }

    private void ranges(BlkIo io, VirtqueueRequest r, int type) {
        boolean discard = type == VirtioBlk.T_DISCARD;
        io.usedLength = 1;
        if (readonly) {
            fail(io, S_IOERR, (discard ? "a discard" : "a write zeroes") + " on a read-only device", 0, 0);
            return;
        }
        if (!bdev.supports(discard ? IoType.UNMAP : IoType.WRITE_ZEROES)) {
            fail(io, S_UNSUPP, (discard ? "discard" : "write zeroes") + " not supported by the bdev", 0, 0);
            return;
        }
        long bytes = r.readableBytes() - HEADER_BYTES;
        if (bytes == 0 || bytes % VirtioBlk.RANGE_BYTES != 0 || bytes / VirtioBlk.RANGE_BYTES > MAX_RANGES) {
            fail(io, S_IOERR, "a range table of " + bytes + " bytes", 0, bytes);
            return;
        }
        int count = (int) (bytes / VirtioBlk.RANGE_BYTES);
        BlkIo.gather(r, HEADER_BYTES, io.ranges, bytes);
        for (int i = 0; i < count; i++) {
            long sector = BlkRanges.sector(io.ranges, i);
            long sectors = BlkRanges.sectors(io.ranges, i);
            int flags = BlkRanges.flags(io.ranges, i);
            if (discard ? flags != 0 : (flags & ~VirtioBlk.RANGE_F_UNMAP) != 0) {
                fail(io, S_UNSUPP, "range flags " + flags, sector, sectors * SECTOR_BYTES);
                return;
            }
            if (sectors > MAX_RANGE_SECTORS || !checkData(io, sector, sectors * SECTOR_BYTES)) {
                if (sectors > MAX_RANGE_SECTORS) {
                    fail(io, S_IOERR, "a range longer than advertised", sector, sectors * SECTOR_BYTES);
                }
                return;
            }
        }
        if (discard) {
            executor.unmap(io, desc, channel, io.ranges, count, rangeFormat);
        } else {
            executor.writeZeroes(io, desc, channel, io.ranges, count, rangeFormat);
        }
    }

    @Override
    public void requestDone(BlkIo io, RequestStatus status, int detail) {
        if (status == RequestStatus.REFUSED) {
            problems.report(thread.runtime().clock().nanoTime(), "refused by the bdev layer (" + detail + ")", -1,
                    io.usedLength);
        }
        if (status != RequestStatus.SUCCESS) {
            io.usedLength = 1;
        }
        end(io, status == RequestStatus.SUCCESS ? S_OK : S_IOERR);
    }

    private void fail(BlkIo io, byte status, String why, long sector, long bytes) {
        problems.report(thread.runtime().clock().nanoTime(), why, sector, bytes);
        io.usedLength = 1;
        end(io, status);
    }

    private void end(BlkIo io, byte status) {
        VirtqueueRequest r = io.request;
        int used = io.usedLength;
        give(io);
        r.complete(status, used); // the session's poller calls the guest once per batch
    }

    private BlkIo take(VirtqueueRequest r) {
        BlkIo io = free;
        if (io == null) {
            io = new BlkIo(arena, MAX_SEGMENTS, MAX_RANGES); // warm-up only: the pool grows to the most in flight
        } else {
            free = io.nextFree;
            io.nextFree = null;
        }
        io.request = r;
        return io;
    }

    private void give(BlkIo io) {
        io.clear();
        io.nextFree = free;
        free = io;
    }

    // ---- lifetime ----

    /** Requests failed for a bad request so far. */
    public long badRequests() {
        return problems.total();
    }

    /**
     * The bdev is being removed: new requests fail IOERR; those at the bdev finish, then the channel is put and
     * {@code released} runs (the owner may close the descriptor). The session goes on.
     */
    public void bdevRemoved(Runnable released) {
        removed = true;
        letGo(released);
    }

    /** The session ended: lets requests at the bdev finish, puts the channel, frees what it holds, then {@code released}. */
    public void release(Runnable released) {
        releasing = true;
        letGo(released);
    }

    private void letGo(Runnable released) {
        executor.drain(DRAIN_BOUND_NANOS, new DrainListener() {
            @Override
            public void drained() {
                if (!channelPut) {
                    channelPut = true;
                    channelRef.put();
                }
                if (releasing && !arena.isClosed()) {
                    arena.close();
                }
                released.run();
            }
        });
    }
}
