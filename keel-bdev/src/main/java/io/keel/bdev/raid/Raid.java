package io.keel.bdev.raid;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.VirtualBdevModule;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * One raid in any state ({@code struct raid_bdev} with its {@code base_bdev_info}s): what create asked for, its
 * member slots, and its bdev while online. CONFIGURING: members are opened and claimed as they arrive; once as many
 * are configured as are operational the layout is computed and the bdev registered (ONLINE); a member lost that the
 * level cannot spare takes it OFFLINE (unregistered; kept, to be listed, until {@code bdev_raid_delete}). App thread
 * only.
 */
final class Raid implements VirtualBdevModule.Association {
    /**
     * How long a raid reassembled with a rebuild checkpoint waits for the rebuild's target once every CONFIGURED
     * member is there (R5: no wait without a bound); then it goes online without it and the checkpoint is dropped.
     */
    static final long TARGET_WAIT_MICROS = 5_000_000;

    private final RaidModule module;
    private final String name;
    private final UUID uuid;
    private final RaidLevel level;
    private final int stripSizeKb;
    /** Whether the raid keeps a superblock on its members. */
    private final boolean withSuperblock;
    /** The superblock last written or read (null: none yet, or a raid without one). */
    private RaidSuperblock sb;
    /** By slot: the member's bdev name (null: an empty slot, its member removed). */
    private final String[] memberNames;
    /** By slot, while CONFIGURING: the member opened and claimed. */
    private final BdevDesc[] configuring;
    /** By slot: the member's data region, once online (an empty slot keeps its size, for a replacement). */
    private final long[] dataSizes;
    /** By slot: the blocks before the member's data region (0 without a superblock). */
    private final long[] dataOffsets;
    private RaidLayout layout;
    private int blockSize;
    private RaidState state = RaidState.CONFIGURING;
    private int operational;
    private RaidBdev bdev;
    private final SuperblockWriter sbWriter = new SuperblockWriter(() -> sb = sb.nextSequence(),
            () -> bdev == null ? List.of() : bdev.bases(),
            this::superblockWriteFailed);
    /** The rebuild running, or null; and the slot it writes to. */
    private RaidRebuild rebuild;
    private int rebuildSlot = -1;
    /** When the rebuild running records its progress in the superblock. */
    private CheckpointSchedule checkpoints;
    /**
     * A raid put together from a superblock with a rebuild checkpoint: the target's slot (-1: none), awaited with the
     * configured members; the rebuild goes on from the checkpoint once the raid is online.
     */
    private int resumeSlot = -1;
    /** While the configured members wait for the rebuild's target: the bound on that wait. */
    private Poller targetWait;

    Raid(RaidModule module, RaidRpcParams.Create p) {
        this.module = module;
        this.name = p.name();
        this.uuid = p.uuid() != null ? p.uuid() : UUID.randomUUID();
        this.level = p.raidLevel();
        this.stripSizeKb = p.stripSizeKb();
        this.memberNames = p.baseBdevs().toArray(new String[0]);
        this.configuring = new BdevDesc[memberNames.length];
        this.dataSizes = new long[memberNames.length];
        this.dataOffsets = new long[memberNames.length];
        this.operational = memberNames.length;
        this.withSuperblock = p.superblock();
    }

    /**
     * A raid put together again from a member's superblock ({@code raid_bdev_create_from_sb}): its members are found
     * by UUID, and only the slots the superblock has CONFIGURED are operational; and, with a rebuild checkpoint (Keel's),
     * the rebuild's target, operational as SPDK counts a target, which the raid waits for too.
     */
    Raid(RaidModule module, RaidSuperblock sb) {
        this.module = module;
        this.name = sb.name();
        this.uuid = sb.raidUuid();
        this.level = sb.level();
        this.stripSizeKb = (int) ((long) sb.stripSize() * sb.blockSize() / 1024);
        this.memberNames = new String[sb.memberCount()];
        this.configuring = new BdevDesc[sb.memberCount()];
        this.dataSizes = new long[sb.memberCount()];
        this.dataOffsets = new long[sb.memberCount()];
        this.withSuperblock = true;
        this.sb = sb;
        for (SuperblockMember m : sb.members()) {
            dataOffsets[m.slot()] = m.dataOffset();
            dataSizes[m.slot()] = m.dataSize();
            if (m.state() == MemberState.CONFIGURED) {
                operational++;
            }
        }
        if (sb.rebuild() != null && level == RaidLevel.RAID1) {
            resumeSlot = sb.rebuild().slot();
            operational++;
        }
    }

    /** The superblock last written or read, or null. */
    RaidSuperblock superblock() {
        return sb;
    }

    @Override
    public String name() {
        return name;
    }

    UUID uuid() {
        return uuid;
    }

    RaidState state() {
        return state;
    }

    RaidBdev bdev() {
        return bdev;
    }

    @Override
    public List<String> baseBdevNames() {
        return Arrays.stream(memberNames).filter(n -> n != null).toList();
    }

    /** The empty slot of {@code bdev} (named by its name or an alias) while configuring, or -1. */
    int slotFor(Bdev b) {
        if (sb != null && state == RaidState.CONFIGURING) { // assembling from superblocks: members by UUID
            for (SuperblockMember m : sb.members()) {
                if (m.state() == MemberState.CONFIGURED && m.uuid().equals(b.uuid()) && configuring[m.slot()] == null) {
                    return m.slot();
                }
            }
            boolean target = resumeSlot >= 0 && configuring[resumeSlot] == null && sb.rebuild().target().equals(b.uuid());
            return target ? resumeSlot : -1;
        }
        for (int slot = 0; slot < memberNames.length; slot++) {
            if (configuring[slot] == null && memberNames[slot] != null
                    && (memberNames[slot].equals(b.name()) || b.aliases().contains(memberNames[slot]))) {
                return slot;
            }
        }
        return -1;
    }

    /** Names {@code memberName} as the member of the first empty slot; false when there is none. */
    boolean fillEmptySlot(String memberName) {
        int slot = Arrays.asList(memberNames).indexOf(null);
        if (slot < 0) {
            return false;
        }
        memberNames[slot] = memberName;
        return true;
    }

    /** The slot whose member is {@code b} (configuring or online), or -1. */
    int slotOf(Bdev b) {
        if (bdev != null) {
            return bdev.slotOf(b);
        }
        for (int slot = 0; slot < configuring.length; slot++) {
            if (configuring[slot] != null && configuring[slot].bdev() == b) {
                return slot;
            }
        }
        return -1;
    }

    /** Configures {@code member} (opened and claimed) into {@code slot}; goes online if that was the last one. */
    void configure(int slot, BdevDesc member) {
        configuring[slot] = member;
        memberNames[slot] = member.bdev().name();
        long configured = Arrays.stream(configuring).filter(d -> d != null).count();
        int withData = resumeSlot >= 0 ? operational - 1 : operational;
        if (configured == operational && withData >= level.minOperational(memberNames.length)) {
            stopTargetWait();
            goOnline();
        } else if (resumeSlot >= 0 && configuring[resumeSlot] == null && configured == withData && targetWait == null) {
            targetWait = KeelThread.current().registerPoller(name + "_rebuild_target_wait", this::targetWaitOver,
                    TARGET_WAIT_MICROS);
        }
    }

    /**
     * The rebuild's target did not come within {@link #TARGET_WAIT_MICROS}: with every CONFIGURED member still there,
     * the raid goes online degraded without it; the checkpoint is dropped (writes it misses from now on), so the target
     * is rebuilt from block 0 when added again.
     */
    private int targetWaitOver() {
        stopTargetWait();
        long configured = Arrays.stream(configuring).filter(d -> d != null).count();
        if (state == RaidState.CONFIGURING && resumeSlot >= 0 && configuring[resumeSlot] == null
                && configured == operational - 1 && configured >= level.minOperational(memberNames.length)) {
            module.log().warn("raid {}: rebuild target {} not back after {} s: online without it", name,
                    sb.rebuild().target(), TARGET_WAIT_MICROS / 1_000_000);
            resumeSlot = -1;
            operational--;
            sb = sb.withRebuild(null);
            goOnline();
        }
        return PollerFn.BUSY;
    }

    private void stopTargetWait() {
        if (targetWait != null) {
            targetWait.unregister();
            targetWait = null;
        }
    }

    /**
     * raid_bdev_configure: the layout from the members' data regions, the superblock written (a raid that keeps
     * one), the bdev registered; a rebuild found in the superblock goes on from its checkpoint.
     */
    private void goOnline() {
        int blockSize = -1;
        long[] sizes = new long[configuring.length];
        for (int slot = 0; slot < configuring.length; slot++) {
            if (configuring[slot] == null) { // missing from the superblock's CONFIGURED slots: degraded
                sizes[slot] = dataSizes[slot];
                continue;
            }
            Bdev m = configuring[slot].bdev();
            if (blockSize >= 0 && m.blockSize() != blockSize) {
                module.log().error("raid {}: block size of member {} differs ({} and {})", name, m.name(),
                        m.blockSize(), blockSize);
                return;
            }
            blockSize = m.blockSize();
            if (sb == null) {
                dataOffsets[slot] = withSuperblock ? RaidSuperblock.dataOffsetBlocks(blockSize, m.optimalIoBoundary()) : 0;
                sizes[slot] = m.numBlocks() - dataOffsets[slot];
            } else {
                sizes[slot] = dataSizes[slot];
            }
        }
        int strip = RaidLayout.stripBlocks(stripSizeKb, blockSize);
        if (level.striped() && strip == 0) {
            module.log().error("raid {}: strip size cannot be smaller than the device block size", name);
            return;
        }
        this.blockSize = blockSize;
        layout = RaidLayout.of(level, strip, sizes);
        for (int slot = 0; slot < sizes.length; slot++) {
            dataSizes[slot] = layout.memberDataSize(slot);
        }
        bdev = module.newBdev(this, Arrays.asList(configuring));
        Arrays.fill(configuring, null); // the bdev's slots hold them now
        state = RaidState.ONLINE;
        if (!withSuperblock) {
            module.register(bdev);
            return;
        }
        if (sb == null) {
            sb = newSuperblock(strip);
        }
        if (resumeSlot >= 0) { // the target is in its slot: the view before any channel exists
            long from = sb.rebuild().copiedBlocks();
            bdev.resumeRebuild(resumeSlot, from);
            module.log().info("raid {}: resuming the rebuild onto {} at block {}", name, memberNames[resumeSlot], from);
            newRebuild(resumeSlot, bdev.base(resumeSlot), from);
            resumeSlot = -1;
        }
        writeSuperblock(() -> {
            module.register(bdev);
            if (rebuild != null) {
                rebuild.start(module.layer());
            } else if (level == RaidLevel.RAID1 && Arrays.asList(memberNames).contains(null)) {
                module.examineLeftOut(); // a former member left out while configuring is re-added now
            }
        });
    }

    /** The superblock of a raid just created: every member CONFIGURED, sequence 0 (the first write makes it 1). */
    private RaidSuperblock newSuperblock(int strip) {
        List<SuperblockMember> members = new ArrayList<>();
        for (int slot = 0; slot < memberNames.length; slot++) {
            members.add(new SuperblockMember(bdev.base(slot).bdev().uuid(), dataOffsets[slot], dataSizes[slot], slot,
                    MemberState.CONFIGURED));
        }
        return new RaidSuperblock(uuid, name, layout.blockCount(), blockSize, level, level.striped() ? strip : 0,
                RaidState.ONLINE, 0, memberNames.length, members);
    }

    /**
     * Writes the superblock, its sequence number one up, to every member the bdev holds (after the write in flight,
     * if any), then runs {@code then}, written or not.
     */
    private void writeSuperblock(Runnable then) {
        sbWriter.write(then);
    }

    /** A failed write is logged: the members written still carry it. */
    private void superblockWriteFailed(RaidSuperblock written, int rc) {
        module.log().error("raid {}: writing superblock {} failed: {}", name, written.seqNumber(), rc);
    }

    /** The geometry computed when the raid went online. */
    RaidLayout layout() {
        return layout;
    }

    int blockSize() {
        return blockSize;
    }

    /** By slot: the blocks before each member's data region. */
    long[] dataOffsets() {
        return dataOffsets.clone();
    }

    /** Lets go of the members opened while configuring (delete of a raid that never went online). */
    void closeConfiguring() {
        stopTargetWait();
        for (int slot = 0; slot < configuring.length; slot++) {
            if (configuring[slot] != null) {
                configuring[slot].close();
                configuring[slot] = null;
            }
        }
    }

    // ---- rebuild ----

    /**
     * Why {@code b} cannot be rebuilt onto here, or null: an online raid1 with an empty slot and no rebuild running,
     * {@code b} as large as the slot's data region needs.
     */
    String rebuildRefusal(Bdev b) {
        if (state != RaidState.ONLINE || level != RaidLevel.RAID1) {
            return "only an online raid1 rebuilds";
        }
        int slot = Arrays.asList(memberNames).indexOf(null);
        if (slot < 0 || rebuild != null) {
            return "no empty slot";
        }
        if (b.blockSize() != blockSize) {
            return "block size differs";
        }
        if (b.numBlocks() - targetDataOffset(slot, b) < dataSizes[slot]) {
            return "base bdev is too small";
        }
        return null;
    }

    private long targetDataOffset(int slot, Bdev b) {
        return withSuperblock ? RaidSuperblock.dataOffsetBlocks(blockSize, b.optimalIoBoundary()) : 0;
    }

    /**
     * Starts rebuilding onto {@code target} (opened and claimed; {@link #rebuildRefusal} said yes) in the empty slot
     * ({@code raid_bdev_start_rebuild}): reads skip it, writes reach it below what is copied. The superblock's slot
     * takes the target, not yet CONFIGURED, with the first checkpoint.
     */
    void startRebuild(BdevDesc target) {
        int slot = Arrays.asList(memberNames).indexOf(null);
        memberNames[slot] = target.bdev().name();
        dataOffsets[slot] = targetDataOffset(slot, target.bdev());
        bdev.startRebuild(target, dataOffsets[slot]);
        operational++; // as SPDK counts it: the target is operational while it is rebuilt
        if (sb != null) {
            sb = sb.withMember(new SuperblockMember(target.bdev().uuid(), dataOffsets[slot], dataSizes[slot], slot,
                    MemberState.MISSING));
        }
        module.log().info("raid {}: rebuilding onto {}", name, target.bdev().name());
        newRebuild(slot, target, 0);
        rebuild.start(module.layer());
    }

    /** The rebuild onto {@code target} in {@code slot} from raid block {@code from}, not started yet. */
    private void newRebuild(int slot, BdevDesc target, long from) {
        RaidOptions options = module.options();
        long window = Math.max(1, options.processWindowSizeKb() * 1024L / blockSize);
        rebuildSlot = slot;
        checkpoints = new CheckpointSchedule(blockSize, from, now());
        rebuild = new RaidRebuild(bdev, target, dataOffsets[slot], window, options.processMaxBandwidthMbSec(), from,
                copied -> checkpoint(slot, target, copied), rc -> rebuildEnded(slot, target, rc));
    }

    private static long now() {
        return KeelThread.current().runtime().clock().nanoTime();
    }

    /**
     * A window is copied: records the progress in the superblock when the schedule says so and no other write is in
     * flight (the next window tries again); not the last window, whose end writes the slot CONFIGURED.
     */
    private void checkpoint(int slot, BdevDesc target, long copied) {
        if (sb == null || sbWriter.busy() || copied >= bdev.numBlocks() || !checkpoints.due(copied, now())) {
            return;
        }
        sb = sb.withRebuild(new RebuildCheckpoint(slot, target.bdev().uuid(), copied));
        writeSuperblock(() -> { });
    }

    /** The rebuild ended: 0 copied everything; a negative errno failed (the target goes); 1 was stopped. */
    private void rebuildEnded(int slot, BdevDesc target, int rc) {
        rebuild = null;
        rebuildSlot = -1;
        if (rc == 1) {
            return;
        }
        if (rc != 0) {
            module.log().error("raid {}: rebuild onto {} failed: {}", name, target.bdev().name(), rc);
            dropTarget(slot, MemberState.FAILED, () -> { });
            return;
        }
        module.log().info("raid {}: rebuild onto {} done", name, target.bdev().name());
        bdev.endRebuild();
        if (sb == null) {
            return;
        }
        sb = sb.withMember(new SuperblockMember(target.bdev().uuid(), dataOffsets[slot], dataSizes[slot], slot,
                MemberState.CONFIGURED)).withRebuild(null);
        writeSuperblock(() -> { });
    }

    /**
     * Lets go of a rebuild's target, the rebuild over: the slot is empty again and marked {@code why}; the
     * superblock, written without the checkpoint, leaves the target's own older (what it misses from now on, a
     * later rebuild copies from block 0).
     */
    private void dropTarget(int slot, MemberState why, Runnable done) {
        memberNames[slot] = null;
        operational--;
        bdev.dropMember(slot, () -> {
            bdev.endRebuild();
            if (sb == null) {
                done.run();
                return;
            }
            sb = sb.withMember(memberOf(slot).withState(why)).withRebuild(null);
            writeSuperblock(done);
        });
    }

    /** The superblock's entry for {@code slot}. */
    private SuperblockMember memberOf(int slot) {
        return sb.members().stream().filter(m -> m.slot() == slot).findFirst().orElseThrow();
    }

    // ---- members leaving ----

    /**
     * A member leaves ({@code _raid_bdev_remove_base_bdev}): removed, hot-removed or failed. Configuring: it is
     * closed and its slot waits again. Online: raid1 with a member to spare drops the slot and stays online,
     * degraded; otherwise the raid goes offline. {@code done} once the member is released.
     */
    void removeMember(int slot, Runnable done) {
        removeMember(slot, MemberState.MISSING, done);
    }

    /**
     * {@code bdev_raid_remove_base_bdev}: a removal, after which a configuring raid also forgets the slot's member
     * (the slot stays empty until {@code bdev_raid_add_base_bdev}) instead of waiting for it to come back.
     */
    void removeOnRequest(int slot, Runnable done) {
        if (state == RaidState.CONFIGURING) {
            memberNames[slot] = null;
        }
        removeMember(slot, done);
    }

    private void removeMember(int slot, MemberState why, Runnable done) {
        if (state == RaidState.CONFIGURING) {
            configuring[slot].close();
            configuring[slot] = null;
            done.run();
            return;
        }
        if (state != RaidState.ONLINE || bdev.base(slot) == null) {
            done.run();
            return;
        }
        if (slot == rebuildSlot) { // the target: the rebuild stops first, the raid keeps its members
            rebuild.stop(() -> dropTarget(slot, MemberState.MISSING, done));
            return;
        }
        int withData = rebuild != null ? operational - 1 : operational; // a rebuild's target has not got it all
        if (withData - 1 < level.minOperational(memberNames.length)) {
            module.log().warn("raid {}: member {} lost, too few left: going offline", name, memberNames[slot]);
            state = RaidState.OFFLINE;
            module.unregister(bdev, done);
            return;
        }
        module.log().warn("raid {}: member {} removed, running degraded", name, memberNames[slot]);
        operational--;
        bdev.dropMember(slot, () -> {
            memberNames[slot] = null; // the slot is free once the member is released (its claim too), as SPDK's
            if (sb == null) {
                done.run();
                return;
            }
            sb = sb.withMember(memberOf(slot).withState(why));
            writeSuperblock(done);
        });
    }

    /** An I/O thread saw a write to {@code member} in {@code slot} fail (raid_bdev_fail_base_bdev). */
    void memberFailed(int slot, BdevDesc member) {
        if (bdev != null && bdev.base(slot) == member) {
            module.log().error("raid {}: I/O to member {} failed", name, member.bdev().name());
            removeMember(slot, MemberState.FAILED, () -> { });
        }
    }

    /** The bdev is destructed (its members released): an offline raid stays listed; otherwise the raid is gone. */
    void bdevGone() {
        bdev = null;
        if (state != RaidState.OFFLINE) {
            module.forget(this);
        }
    }

    // ---- what RPCs show ----

    RaidInfo info() {
        List<MemberInfo> members = new ArrayList<>();
        int discovered = 0;
        for (int slot = 0; slot < memberNames.length; slot++) {
            BdevDesc d = bdev != null ? bdev.base(slot) : configuring[slot];
            if (d != null) {
                discovered++;
                members.add(new MemberInfo(d.bdev().name(), d.bdev().uuid(), true, dataOffsets[slot], dataSizes[slot]));
            } else if (memberNames[slot] == null) {
                members.add(MemberInfo.empty(dataSizes[slot]));
            } else {
                members.add(new MemberInfo(memberNames[slot], MemberInfo.NO_UUID, false, 0, dataSizes[slot]));
            }
        }
        long blocks = bdev != null ? bdev.numBlocks() : 0;
        ProcessInfo process = rebuild == null ? null
                : new ProcessInfo(ProcessInfo.Type.REBUILD, memberNames[rebuildSlot], rebuild.progress());
        return new RaidInfo(name, uuid, stripSizeKb, state, level, withSuperblock, discovered, operational, blocks,
                process, members);
    }
}
