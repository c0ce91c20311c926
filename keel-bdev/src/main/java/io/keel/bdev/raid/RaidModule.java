package io.keel.bdev.raid;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.ModuleRpcs;
import io.keel.bdev.VirtualBdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.KeelThread;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The raid module (SPDK's {@code bdev_raid}): {@code bdev_raid_create}, {@code bdev_raid_delete},
 * {@code bdev_raid_get_bdevs}, {@code bdev_raid_add_base_bdev}, {@code bdev_raid_remove_base_bdev},
 * {@code bdev_raid_set_options}. Unlike the other virtual bdev modules, which build a bdev once all its bases exist,
 * a raid claims its members one by one as they arrive ({@link Raid}, CONFIGURING), so the module keeps its raids
 * itself and examines new bdevs itself. Application thread throughout.
 */
public final class RaidModule extends VirtualBdevModule<Raid, RaidBdev> {
    /** The application thread, asked for when needed: an app has none yet when its modules register. */
    private final Supplier<KeelThread> appThread;
    private final List<Raid> raids = new CopyOnWriteArrayList<>();
    private RaidOptions options = RaidOptions.DEFAULTS;

    private RaidModule(Supplier<KeelThread> appThread, BdevLayer layer) {
        super(layer, "raid", "raid", Lifetime.UNTIL_DELETE);
        this.appThread = appThread;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        RaidModule m = new RaidModule(app::appThread, layer);
        layer.addModule(m);
        app.methods().register("bdev_raid_create", RaidRpcParams.Create.class, (p, call) -> {
            m.create(p);
            call.respond(true);
        });
        app.methods().register("bdev_raid_delete", RaidRpcParams.Delete.class, (p, call) -> m.delete(p, call));
        app.methods().register("bdev_raid_get_bdevs", RaidRpcParams.GetBdevs.class,
                (p, call) -> call.respond(m.list(p.category())));
        app.methods().register("bdev_raid_add_base_bdev", RaidRpcParams.AddBaseBdev.class, (p, call) -> {
            m.addBaseBdev(p);
            call.respond(true);
        });
        app.methods().register("bdev_raid_remove_base_bdev", RaidRpcParams.RemoveBaseBdev.class,
                (p, call) -> m.removeBaseBdev(p.name(), call));
        app.methods().register("bdev_raid_set_options", RaidRpcParams.SetOptions.class, (p, call) -> {
            m.options(p.applyTo(m.options));
            call.respond(true);
        });
    }

    /** The module added to {@code layer} without its RPCs (a simulation calls the methods behind them). */
    static RaidModule addTo(BdevLayer layer, KeelThread appThread) {
        RaidModule m = new RaidModule(() -> appThread, layer);
        layer.addModule(m);
        return m;
    }

    /** {@code bdev_raid_set_options}' effect. */
    void options(RaidOptions options) {
        this.options = options;
    }

    RaidOptions options() {
        return options;
    }

    BdevLayer layer() {
        return layer;
    }

    Logger log() {
        return log;
    }

    // ---- RPCs ----

    void create(RaidRpcParams.Create p) {
        p.check();
        if (raid(p.name()) != null || layer.get(p.name()) != null) {
            throw RpcException.errno(Errno.EEXIST, "File exists");
        }
        Raid raid = new Raid(this, p);
        raids.add(raid);
        try {
            for (String member : p.baseBdevs()) {
                Bdev b = layer.get(member);
                if (b != null) {
                    configure(raid, b);
                }
            }
        } catch (BdevException e) {
            raids.remove(raid);
            raid.closeConfiguring();
            throw RpcException.errno(e.errno(), "Failed to add base bdev to RAID bdev: " + e.getMessage());
        }
    }

    /** Opens and claims {@code b} into its slot of {@code raid}, if it has one waiting; throws a refusal. */
    private void configure(Raid raid, Bdev b) {
        int slot = raid.slotFor(b);
        if (slot >= 0) {
            raid.configure(slot, openAndClaim(b.name()));
        }
    }

    /**
     * {@code bdev_raid_delete}: the raid leaves the lists at once; an online one is unregistered (its members are
     * released once its users let go), after its superblock is zeroed on every member if {@code clear_sb} asks.
     */
    private void delete(RaidRpcParams.Delete p, RpcCall call) {
        Raid raid = raid(p.name());
        if (raid == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        if (raid.state() == RaidState.ONLINE && raid.bdev().state() == Bdev.State.NEW) {
            // between assembly and registration: its superblock is being written
            call.fail(-Errno.EBUSY, "RAID bdev " + raid.name() + " is writing its superblock: try again");
            return;
        }
        raids.remove(raid);
        if (raid.state() != RaidState.ONLINE) {
            raid.closeConfiguring();
            call.respond(true);
            return;
        }
        RaidBdev b = raid.bdev();
        Runnable unregister = () -> layer.unregister(b, rc -> ModuleRpcs.respond(call, b, rc));
        if (p.clearSb() && raid.superblock() != null) {
            SuperblockIo.clear(raid.superblock(), b.bases(), rc -> {
                if (rc != 0) {
                    log.error("raid {}: clearing the superblock failed: {}", raid.name(), rc);
                }
                unregister.run();
            });
        } else {
            unregister.run();
        }
    }

    private ArrayNode list(RaidCategory category) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        raids.stream().filter(r -> category.includes(r.state()))
                .forEach(r -> out.add(RaidJson.getBdevsEntry(r.info())));
        return out;
    }

    /**
     * {@code bdev_raid_add_base_bdev}: into a configuring raid's first empty slot (configured at once if the bdev
     * exists, else when it arrives); an online raid1 rebuilds onto it.
     */
    void addBaseBdev(RaidRpcParams.AddBaseBdev p) {
        Raid raid = raid(p.raidBdev());
        if (raid == null) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        String refused = "Failed to add base bdev " + p.baseBdev() + " to RAID bdev " + raid.name() + ": ";
        if (raid.state() == RaidState.ONLINE) {
            rebuildOnto(raid, p.baseBdev(), refused);
            return;
        }
        if (raid.state() != RaidState.CONFIGURING || raid.superblock() != null || !raid.fillEmptySlot(p.baseBdev())) {
            throw RpcException.errno(Errno.EINVAL, refused + "no empty slot");
        }
        Bdev b = layer.get(p.baseBdev());
        if (b != null) {
            try {
                configure(raid, b);
            } catch (BdevException e) {
                throw RpcException.errno(e.errno(), refused + e.getMessage());
            }
        }
    }

    /** An online raid1 with an empty slot copies its data onto {@code memberName} ({@link RaidRebuild}). */
    private void rebuildOnto(Raid raid, String memberName, String refused) {
        Bdev b = layer.get(memberName);
        if (b == null) {
            throw RpcException.errno(Errno.ENODEV, refused + "no such bdev");
        }
        String why = raid.rebuildRefusal(b);
        if (why != null) {
            throw RpcException.errno(Errno.EINVAL, refused + why);
        }
        try {
            raid.startRebuild(openAndClaim(b.name()));
        } catch (BdevException e) {
            throw RpcException.errno(e.errno(), refused + e.getMessage());
        }
    }

    void removeBaseBdev(String memberName, RpcCall call) {
        Bdev b = layer.get(memberName);
        Raid raid = b == null ? null : raids.stream().filter(r -> r.slotOf(b) >= 0).findFirst().orElse(null);
        if (raid == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        raid.removeOnRequest(raid.slotOf(b), () -> call.respond(true));
    }

    // ---- members arriving and leaving ----

    /**
     * A new bdev: a member a raid waits for by name is configured at once; any other bdev nobody claimed is read for
     * a superblock (asynchronously, on this thread: a descriptor, a channel and a bdev_io while it lasts), which may
     * put a raid together again ({@code raid_bdev_examine}).
     */
    @Override
    public void examine(Bdev bdev) {
        for (Raid raid : raids) {
            if (raid.state() == RaidState.CONFIGURING && raid.superblock() == null) {
                try {
                    configure(raid, bdev);
                } catch (BdevException e) {
                    log.error("raid {}: cannot configure bdev {}: {}", raid.name(), bdev.name(), e.getMessage());
                }
            }
        }
        // a bdev no larger than the superblock's reserved megabyte cannot hold a member's data: not read
        if (bdev.claimedBy() == null && bdev.module() != this
                && bdev.sizeBytes() > RaidSuperblock.MIN_DATA_OFFSET_BYTES) {
            readSuperblock(bdev);
        }
    }

    /**
     * Reads again the superblock of every bdev nobody claimed: a raid that went online degraded re-adds a former
     * member left out while it was configuring (SPDK's {@code raid_bdev_examine_others}).
     */
    void examineLeftOut() {
        for (Bdev b : layer.bdevs()) {
            if (b.claimedBy() == null && b.module() != this && b.sizeBytes() > RaidSuperblock.MIN_DATA_OFFSET_BYTES) {
                readSuperblock(b);
            }
        }
    }

    private void readSuperblock(Bdev bdev) {
        boolean[] removed = {false};
        BdevDesc d;
        try {
            d = layer.open(bdev.name(), false, (event, b) -> removed[0] |= event == BdevEvent.REMOVE);
        } catch (BdevException e) {
            return; // gone already
        }
        layer.examineStarted();
        SuperblockIo.read(d, decode -> {
            d.close();
            if (!removed[0] && decode instanceof SuperblockDecode.Decoded found) {
                onSuperblock(bdev, found.superblock());
            } else if (decode instanceof SuperblockDecode.Refused r && r.reason() != SuperblockDecode.Refusal.BAD_SIGNATURE
                    && r.reason() != SuperblockDecode.Refusal.UNREADABLE) {
                log.warn("raid: bdev {} has an unusable superblock: {}", bdev.name(), r.message());
            }
            layer.examineDone();
        });
    }

    /**
     * A member's superblock ({@code raid_bdev_examine_sb}): the raid it names is created from it, or, while that raid
     * is configuring, replaced by it when it is newer (the highest sequence number wins); a member with an older
     * superblock, or whose slot the raid's superblock does not have CONFIGURED, is left out (a rebuild would re-add
     * it).
     */
    private void onSuperblock(Bdev bdev, RaidSuperblock sb) {
        if (bdev.state() != Bdev.State.REGISTERED || bdev.claimedBy() != null) {
            return;
        }
        Raid raid = raids.stream().filter(r -> r.uuid().equals(sb.raidUuid())).findFirst().orElse(null);
        if (raid != null && raid.superblock() == null) {
            log.error("raid {}: bdev {} has a superblock of a raid with the same UUID: left out", raid.name(),
                    bdev.name());
            return;
        }
        if (raid != null && raid.state() == RaidState.CONFIGURING
                && sb.seqNumber() > raid.superblock().seqNumber()) {
            log.info("raid {}: bdev {} has a newer superblock ({} > {}): assembling from it", raid.name(),
                    bdev.name(), sb.seqNumber(), raid.superblock().seqNumber());
            raids.remove(raid);
            raid.closeConfiguring(); // their superblocks are older: they are left out
            raid = null;
        }
        if (raid == null) {
            if (layer.get(sb.name()) != null) {
                log.error("raid {}: a bdev of that name exists: bdev {} left out", sb.name(), bdev.name());
                return;
            }
            raid = new Raid(this, sb);
            raids.add(raid);
        } else if (raid.state() == RaidState.ONLINE && wasMember(raid, bdev)) {
            // not yet registered (its superblock being written): re-read once it is (examineLeftOut)
            if (raid.bdev().state() == Bdev.State.REGISTERED) {
                readdAndRebuild(raid, bdev);
            }
            return;
        } else if (sb.seqNumber() < raid.superblock().seqNumber()) {
            log.warn("raid {}: bdev {} has an older superblock ({} < {}): left out", raid.name(), bdev.name(),
                    sb.seqNumber(), raid.superblock().seqNumber());
            return;
        }
        if (raid.state() != RaidState.CONFIGURING || raid.slotFor(bdev) < 0) {
            log.warn("raid {}: bdev {} is not a configured member in its superblock: left out", raid.name(),
                    bdev.name());
            return;
        }
        try {
            configure(raid, bdev);
        } catch (BdevException e) {
            log.error("raid {}: cannot configure bdev {}: {}", raid.name(), bdev.name(), e.getMessage());
        }
    }

    /** Whether the online raid's superblock names {@code bdev} in a slot it no longer counts (MISSING or FAILED). */
    private static boolean wasMember(Raid raid, Bdev bdev) {
        return raid.superblock().members().stream()
                .anyMatch(m -> m.uuid().equals(bdev.uuid()) && m.state() != MemberState.CONFIGURED);
    }

    /**
     * A former member of an online raid came back (its superblock is older: it missed writes): it is not trusted
     * but rebuilt, as SPDK re-adds it ({@code raid_bdev_examine_sb} on an online raid).
     */
    private void readdAndRebuild(Raid raid, Bdev bdev) {
        String why = raid.rebuildRefusal(bdev);
        if (why != null) {
            log.warn("raid {}: former member {} came back but is left out: {}", raid.name(), bdev.name(), why);
            return;
        }
        log.info("raid {}: former member {} came back: re-adding it, rebuilt from block 0", raid.name(),
                bdev.name());
        try {
            raid.startRebuild(openAndClaim(bdev.name()));
        } catch (BdevException e) {
            log.error("raid {}: cannot re-add bdev {}: {}", raid.name(), bdev.name(), e.getMessage());
        }
    }

    @Override
    protected void onBaseEvent(BdevEvent event, Bdev base) {
        if (event != BdevEvent.REMOVE) {
            log.info("raid: ignoring {} of bdev {}", event, base.name());
            return;
        }
        for (Raid raid : raids) {
            int slot = raid.slotOf(base);
            if (slot >= 0) {
                raid.removeMember(slot, () -> { });
            }
        }
    }

    // ---- the raids' bdevs ----

    /** The bdev of a raid whose members are configured (by slot, null for a missing one) and layout computed. */
    @Override
    protected RaidBdev newBdev(Raid raid, List<BdevDesc> members) {
        return new RaidBdev(this, raid, members, appThread.get());
    }

    void register(RaidBdev b) {
        layer.register(b);
        b.openLockDesc(layer);
        log.info("raid {} online: {} blocks", b.name(), b.numBlocks());
    }

    void unregister(RaidBdev b, Runnable done) {
        layer.unregister(b, done);
    }

    /** A raid's bdev is destructed and its members released; a raid still listed hears it. Any thread. */
    void bdevDestructed(Raid raid) {
        if (KeelThread.current() == appThread.get()) {
            raid.bdevGone();
        } else {
            appThread.get().send(raid::bdevGone);
        }
    }

    /** A raid leaves the lists (its bdev destructed while not offline). */
    void forget(Raid raid) {
        raids.remove(raid);
    }

    Raid raid(String name) {
        return raids.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    // ---- save_config ----

    @Override
    public List<ConfigEntry> optionsConfig() {
        return List.of(RaidJson.setOptionsConfig(options));
    }

    /** A create per online raid without a superblock (this module comes after its members' modules). */
    @Override
    public List<ConfigEntry> config() {
        List<ConfigEntry> out = new ArrayList<>();
        raids.stream().filter(r -> r.state() == RaidState.ONLINE)
                .forEach(r -> RaidJson.createConfig(r.info()).ifPresent(out::add));
        return out;
    }
}
