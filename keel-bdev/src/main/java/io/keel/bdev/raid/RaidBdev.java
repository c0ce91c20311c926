package io.keel.bdev.raid;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.IoType;
import io.keel.bdev.VirtualBdev;
import io.keel.core.thread.KeelThread;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A raid's bdev while it is online ({@code struct raid_bdev} registered): one slot per member, I/O split or mirrored
 * on the submitting thread as its level says (docs/raid-design.md, "I/O per level"), nothing allocated per I/O.
 * A member address is the member's data offset plus the layout's address. Membership ({@link Raid}) is the app
 * thread's; an I/O thread that sees a member fail a write only reports it there ({@link Raid#memberFailed}). A raid1
 * read its first member fails is read from another and written back to it ({@link ReadCorrection}).
 */
final class RaidBdev extends VirtualBdev {
    /** A part of a striped I/O, or of a raid1 write, flush or unmap, ended. */
    private static final BdevIoCallback PART_DONE = (child, success, parent) -> partDone(child, (BdevIo) parent);
    /** A raid1 read from one member ended. */
    private static final BdevIoCallback READ_DONE = (child, success, parent) -> readDone(child, (BdevIo) parent);
    /** A corrected read's data, written back to the member that failed it, is there (or not). */
    private static final BdevIoCallback WRITTEN_BACK = (child, success, c) -> writtenBack(child, (ReadCorrection) c);

    private final Raid raid;
    private final RaidLayout layout;
    private final boolean mirrored;
    /** By slot: the blocks before the member's data region. */
    private final long[] dataOffsets;
    /**
     * By slot: 1 once a member failed a write. Set before the write's parent completes, so no read that starts
     * after it goes there (the member misses data) while the app thread is still removing it; a burst of errors
     * reports it to the app thread once.
     */
    private final AtomicIntegerArray failureReported;
    private final KeelThread appThread;
    /**
     * The slot a rebuild writes to, or -1. The rebuild's view is these two fields, read by every channel at each I/O,
     * so a channel made at any moment of a rebuild sees it (R7): written by the app thread only while the windows
     * it moves past are locked, so no write in flight straddles a change.
     */
    private volatile int rebuildSlot = -1;
    /** While rebuilding: the raid blocks below this are on the target too. */
    private volatile long rebuiltUpTo;
    /**
     * A read-only descriptor of the raid on itself, through which read corrections lock ranges (so no user's write
     * passes as the lock holder's); null before registration and once a removal closed it.
     */
    private volatile BdevDesc lockDesc;
    private final AtomicLong readsCorrected = new AtomicLong();
    private final AtomicLong correctionsSkipped = new AtomicLong();
    private final AtomicBoolean skipLogged = new AtomicBoolean();

    RaidBdev(RaidModule module, Raid raid, List<BdevDesc> bases, KeelThread appThread) {
        super(module, raid.name(), raid.uuid(), "Raid Volume", raid.blockSize(), raid.layout().blockCount(),
                ioTypes(bases), bases);
        this.raid = raid;
        this.layout = raid.layout();
        this.mirrored = layout instanceof Raid1Layout;
        this.dataOffsets = raid.dataOffsets();
        this.failureReported = new AtomicIntegerArray(bases.size());
        this.appThread = appThread;
    }

    /** Read, write and reset always; flush, unmap and write zeroes only if every member does them. */
    private static Set<IoType> ioTypes(List<BdevDesc> bases) {
        Set<IoType> types = EnumSet.of(IoType.READ, IoType.WRITE, IoType.RESET);
        for (IoType t : List.of(IoType.FLUSH, IoType.UNMAP, IoType.WRITE_ZEROES)) {
            if (bases.stream().allMatch(b -> b == null || b.bdev().supports(t))) {
                types.add(t);
            }
        }
        return types;
    }

    @Override
    protected RaidChannel newChannel(KeelThread thread) {
        return new RaidChannel(this);
    }

    @Override
    public JsonNode driverSpecific() {
        return RaidJson.driverSpecific(raid.info());
    }

    /** Opens {@link #lockDesc}, once registered; a removal closes it. App thread. */
    void openLockDesc(BdevLayer layer) {
        BdevDesc[] opened = new BdevDesc[1];
        try {
            opened[0] = layer.open(name(), false, (event, b) -> {
                if (event == BdevEvent.REMOVE) {
                    lockDesc = null;
                    opened[0].close();
                }
            });
        } catch (BdevException e) {
            return; // removed already, while its examine ran
        }
        lockDesc = opened[0];
    }

    /** Empties {@code slot} (a member removed or failed); {@code done} on this (the app) thread. */
    void dropMember(int slot, Runnable done) {
        removeBase(slot, done);
    }

    // ---- rebuild ----

    /**
     * Puts {@code target}, its data from block {@code dataOffset} on, in the first empty slot as the target of a
     * rebuild at block 0; returns the slot. App thread.
     */
    int startRebuild(BdevDesc target, long dataOffset) {
        rebuiltUpTo = 0;
        int slot = firstEmptySlot();
        dataOffsets[slot] = dataOffset; // read by I/O threads only once the slot is filled, after this
        failureReported.set(slot, 0); // the slot's last member may have failed
        rebuildSlot = slot; // before the slot fills: no thread sees the target without the rebuild's view
        addBase(target);
        return slot;
    }

    /**
     * A raid put together again with a rebuild's target in {@code slot}, the raid blocks below {@code copiedBlocks}
     * on it already. App thread, before the bdev is registered (no channel sees the slot before the view).
     */
    void resumeRebuild(int slot, long copiedBlocks) {
        rebuiltUpTo = copiedBlocks;
        rebuildSlot = slot;
    }

    /** The rebuild has copied the raid's blocks below {@code blocks} (the windows it moves past still locked). App thread. */
    void rebuiltUpTo(long blocks) {
        rebuiltUpTo = blocks;
    }

    /** The rebuild is over: the target, if still there, is a member like the others. App thread. */
    void endRebuild() {
        rebuildSlot = -1;
    }

    /** The blocks of an I/O at {@code offset} of {@code blocks} that go to the member in {@code slot}, from offset. */
    private long blocksFor(int slot, long offset, long blocks) {
        if (slot != rebuildSlot) {
            return blocks;
        }
        return Math.max(0, Math.min(blocks, rebuiltUpTo - offset));
    }

    @Override
    protected void destruct(Runnable done) {
        super.destruct(() -> {
            ((RaidModule) module()).bdevDestructed(raid);
            done.run();
        });
    }

    // ---- I/O ----

    @Override
    protected void submit(BdevIo io) {
        if (!mirrored && io.type() != IoType.RESET && io.numBlocks() > 0) {
            submitStriped(io, (StripedLayout) layout);
        } else if (mirrored && io.type() == IoType.READ) {
            readLeastLoaded(io);
        } else { // reset; a flush of no blocks; raid1 write, unmap, write zeroes, flush: every member
            toEveryMember(io, mirrored && io.type() != IoType.RESET);
        }
    }

    /** raid0 and concat: data I/O one piece per strip (raid0) or member (concat); the others one part per member. */
    private void submitStriped(BdevIo io, StripedLayout striped) {
        PartCount.begin(io, false);
        if (io.type().carriesData() || striped instanceof ConcatLayout) {
            PieceCursor cursor = ((RaidChannel) io.moduleChannel()).cursor.start(striped, io.offsetBlocks(),
                    io.numBlocks());
            while (cursor.next()) {
                sendPart(io, cursor.member(), cursor.parentOffset() * blockSize(), cursor.memberLba(),
                        cursor.blocks());
            }
        } else {
            Raid0Layout raid0 = (Raid0Layout) striped;
            for (int slot = 0; slot < slots(); slot++) {
                long blocks = raid0.extentBlocks(io.offsetBlocks(), io.numBlocks(), slot);
                if (blocks > 0) {
                    sendPart(io, slot, 0, raid0.extentOffset(io.offsetBlocks(), io.numBlocks(), slot), blocks);
                }
            }
        }
        PartCount.submitted(io);
    }

    /**
     * The same blocks to every member that has a channel here (a missing member is skipped: a degraded raid1 still
     * resets): reset, a flush of no blocks, raid1's writes, unmaps, write zeroes and flushes ({@code anySuffices}:
     * the I/O succeeds if one member did it; none left fails it).
     */
    private void toEveryMember(BdevIo io, boolean anySuffices) {
        RaidChannel ch = io.moduleChannel();
        PartCount.begin(io, anySuffices);
        for (int slot = 0; slot < slots(); slot++) {
            if (ch.base(slot) == null) {
                continue;
            }
            // a rebuild's target gets the part below what it has copied: above, the copy brings it later
            long blocks = blocksFor(slot, io.offsetBlocks(), io.numBlocks());
            if (blocks > 0 || io.numBlocks() == 0) {
                sendPart(io, slot, 0, io.offsetBlocks(), blocks);
            }
        }
        PartCount.submitted(io);
    }

    /** Sends one part; a part that cannot start (an empty slot: a missing member) counts as failed. */
    private void sendPart(BdevIo io, int slot, long parentByteOffset, long memberLba, long blocks) {
        long lba = io.type() == IoType.RESET ? 0 : dataOffsets[slot] + memberLba;
        if (submitPart(slot, io, parentByteOffset, lba, blocks, PART_DONE, io) == 0) {
            PartCount.add(io);
        } else {
            PartCount.failed(io);
        }
    }

    private static void partDone(BdevIo child, BdevIo parent) {
        boolean ok = child.status() == BdevIoStatus.SUCCESS;
        if (!ok && child.type().modifies()) {
            ((RaidBdev) parent.bdev()).memberFailed(child.desc());
        }
        child.free();
        PartCount.end(parent, ok);
    }

    // ---- raid1 reads ----

    private void readLeastLoaded(BdevIo io) {
        int slot = ((RaidChannel) io.moduleChannel()).leastLoadedReadSlot();
        if (slot < 0) {
            io.complete(BdevIoStatus.FAILED);
            return;
        }
        io.moduleValue = slot;
        readFrom(io, slot);
    }

    /** Reads {@code io} from the member in {@code slot}; the slot and the first one tried are in moduleValue. */
    private void readFrom(BdevIo io, int slot) {
        RaidChannel ch = io.moduleChannel();
        int rc = submitPart(slot, io, 0, dataOffsets[slot] + io.offsetBlocks(), io.numBlocks(), READ_DONE, io);
        if (rc == 0) {
            ch.readBlocks[slot] += io.numBlocks();
        } else {
            readOther(io);
        }
    }

    private static void readDone(BdevIo child, BdevIo parent) {
        RaidBdev raid = (RaidBdev) parent.bdev();
        RaidChannel ch = parent.moduleChannel();
        int slot = (int) (parent.moduleValue & 0xFFFF);
        ch.readBlocks[slot] -= parent.numBlocks();
        boolean ok = child.status() == BdevIoStatus.SUCCESS;
        child.free();
        ReadCorrection correcting = (ReadCorrection) parent.moduleContext;
        if (ok && correcting != null) {
            raid.writeBack(correcting, parent);
        } else if (ok) {
            parent.complete(BdevIoStatus.SUCCESS);
        } else if (parent.moduleValue >>> 16 != 0 || !raid.startCorrection(parent, slot)) {
            raid.readOther(parent); // a later member failed too, or the first one's error goes uncorrected
        }
    }

    /**
     * The read failed on its member: tries the next members in slot order, each once ({@code raid1_read_other_base_bdev});
     * fails when it is back at the first. moduleValue: bits 0-15 the slot read now, 16-31 the first slot tried +1.
     */
    void readOther(BdevIo io) {
        long v = io.moduleValue;
        int first = (int) (v >>> 16) == 0 ? (int) (v & 0xFFFF) : (int) (v >>> 16) - 1;
        RaidChannel ch = io.moduleChannel();
        for (int slot = ((int) (v & 0xFFFF) + 1) % slots(); slot != first; slot = (slot + 1) % slots()) {
            if (ch.readable(slot)) {
                io.moduleValue = ((long) (first + 1) << 16) | slot;
                readFrom(io, slot);
                return;
            }
        }
        if (io.moduleContext instanceof ReadCorrection c) {
            c.finish(BdevIoStatus.FAILED);
        } else {
            io.complete(BdevIoStatus.FAILED);
        }
    }

    // ---- raid1 read-error correction ----

    /**
     * The first member read, in {@code failedSlot}, failed {@code io}: locks its range, then reads it from the others
     * and writes it back there ({@link ReadCorrection}). False when it goes uncorrected: no other member to read
     * from, or (counted, logged once) no correction free on this thread, no lock descriptor, or the range locked
     * by another (a rebuild copying it, another correction).
     */
    private boolean startCorrection(BdevIo io, int failedSlot) {
        RaidChannel ch = io.moduleChannel();
        if (!ch.readableOtherThan(failedSlot)) {
            return false;
        }
        BdevDesc desc = lockDesc;
        ReadCorrection c = desc == null ? null : ch.takeCorrection();
        if (c == null || c.start(io, failedSlot, desc) != 0) {
            correctionSkipped();
            return false;
        }
        return true;
    }

    /** A read error was left uncorrected for want of a correction, a lock descriptor or the lock. Any thread. */
    void correctionSkipped() {
        correctionsSkipped.incrementAndGet();
        if (skipLogged.compareAndSet(false, true)) {
            ((RaidModule) module()).log().warn("raid {}: a read error was not written back to its member (no "
                    + "correction free, or its range locked); later ones are only counted", name());
        }
    }

    /** The good data is in {@code io}'s buffers: writes it to the member that failed the read. */
    private void writeBack(ReadCorrection c, BdevIo io) {
        int slot = c.failedSlot();
        int rc = writePart(slot, io, 0, dataOffsets[slot] + io.offsetBlocks(), io.numBlocks(), WRITTEN_BACK, c);
        if (rc != 0) { // the member is leaving (its slot empty, its descriptor closed): nothing to correct
            c.finish(BdevIoStatus.SUCCESS);
        }
    }

    /** A write-back that failed fails its member, as a failed write does; the read succeeds either way. */
    private static void writtenBack(BdevIo child, ReadCorrection c) {
        RaidBdev raid = (RaidBdev) c.read().bdev();
        if (child.status() == BdevIoStatus.SUCCESS) {
            raid.readsCorrected.incrementAndGet();
        } else {
            raid.memberFailed(child.desc());
        }
        child.free();
        c.finish(BdevIoStatus.SUCCESS);
    }

    /** Reads whose data was written back to the member that failed them. */
    long readsCorrected() {
        return readsCorrected.get();
    }

    /** Read errors left uncorrected for want of a correction, a lock descriptor or the lock. */
    long correctionsSkipped() {
        return correctionsSkipped.get();
    }

    // ---- member failure ----

    /**
     * Whether the member in {@code slot} failed a write (it is being removed), or is a rebuild's target, which reads
     * skip. Any thread.
     */
    boolean failed(int slot) {
        return failureReported.get(slot) != 0 || slot == rebuildSlot;
    }

    /** A write to {@code member} failed: the app thread removes it from the raid, once (I/O thread). */
    private void memberFailed(BdevDesc member) {
        int slot = slotOf(member.bdev());
        if (slot >= 0 && failureReported.compareAndSet(slot, 0, 1)) {
            appThread.send(() -> raid.memberFailed(slot, member));
        }
    }
}
