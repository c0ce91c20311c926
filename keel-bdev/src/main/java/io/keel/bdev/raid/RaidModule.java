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
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;

/**
 * The raid module (SPDK's {@code bdev_raid}): {@code bdev_raid_create}, {@code bdev_raid_delete},
 * {@code bdev_raid_get_bdevs}, {@code bdev_raid_add_base_bdev}, {@code bdev_raid_remove_base_bdev},
 * {@code bdev_raid_set_options}. Unlike the other virtual bdev modules, which build a bdev once all its bases exist,
 * a raid claims its members one by one as they arrive ({@link Raid}, CONFIGURING), so the module keeps its raids
 * itself and examines new bdevs itself. Application thread throughout.
 */
public final class RaidModule extends VirtualBdevModule<Raid, RaidBdev> {
    private final KeelApp app;
    private final List<Raid> raids = new CopyOnWriteArrayList<>();
    private RaidOptions options = RaidOptions.DEFAULTS;

    private RaidModule(KeelApp app, BdevLayer layer) {
        super(layer, "raid", "raid", Lifetime.UNTIL_DELETE);
        this.app = app;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        RaidModule m = new RaidModule(app, layer);
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
            m.options = p.applyTo(m.options);
            call.respond(true);
        });
    }

    Logger log() {
        return log;
    }

    // ---- RPCs ----

    private void create(RaidRpcParams.Create p) {
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

    private void delete(RaidRpcParams.Delete p, RpcCall call) {
        Raid raid = raid(p.name());
        if (raid == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        if (raid.state() == RaidState.ONLINE) {
            RaidBdev b = raid.bdev();
            raids.remove(raid); // gone from the lists now; its bdev is released as its users let go
            layer.unregister(b, rc -> ModuleRpcs.respond(call, b, rc));
            return;
        }
        raids.remove(raid);
        raid.closeConfiguring();
        call.respond(true);
    }

    private ArrayNode list(RaidCategory category) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        raids.stream().filter(r -> category.includes(r.state()))
                .forEach(r -> out.add(RaidJson.getBdevsEntry(r.info())));
        return out;
    }

    private void addBaseBdev(RaidRpcParams.AddBaseBdev p) {
        Raid raid = raid(p.raidBdev());
        if (raid == null) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        if (raid.state() == RaidState.ONLINE) {
            throw RpcException.errno(Errno.ENOTSUP, "Failed to add base bdev " + p.baseBdev() + " to RAID bdev "
                    + raid.name() + ": rebuild not implemented yet");
        }
        throw RpcException.errno(Errno.EINVAL, "Failed to add base bdev " + p.baseBdev() + " to RAID bdev "
                + raid.name() + ": no empty slot");
    }

    private void removeBaseBdev(String memberName, RpcCall call) {
        Bdev b = layer.get(memberName);
        Raid raid = b == null ? null : raids.stream().filter(r -> r.slotOf(b) >= 0).findFirst().orElse(null);
        if (raid == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        raid.removeMember(raid.slotOf(b), () -> call.respond(true));
    }

    // ---- members arriving and leaving ----

    @Override
    public void examine(Bdev bdev) {
        for (Raid raid : raids) {
            if (raid.state() == RaidState.CONFIGURING) {
                try {
                    configure(raid, bdev);
                } catch (BdevException e) {
                    log.error("raid {}: cannot configure bdev {}: {}", raid.name(), bdev.name(), e.getMessage());
                }
            }
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
        return new RaidBdev(this, raid, members, app.appThread());
    }

    void register(RaidBdev b) {
        layer.register(b);
        log.info("raid {} online: {} blocks", b.name(), b.numBlocks());
    }

    void unregister(RaidBdev b, Runnable done) {
        layer.unregister(b, done);
    }

    /** A raid's bdev is destructed and its members released; a raid still listed hears it. Any thread. */
    void bdevDestructed(Raid raid) {
        app.onAppThread(raid::bdevGone);
    }

    /** A raid leaves the lists (its bdev destructed while not offline). */
    void forget(Raid raid) {
        raids.remove(raid);
    }

    private Raid raid(String name) {
        return raids.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    // ---- save_config ----

    /** bdev_raid_set_options first, then a create per online raid without a superblock, after its members. */
    @Override
    public List<ConfigEntry> config() {
        List<ConfigEntry> out = new ArrayList<>();
        out.add(RaidJson.setOptionsConfig(options));
        raids.stream().filter(r -> r.state() == RaidState.ONLINE)
                .forEach(r -> RaidJson.createConfig(r.info()).ifPresent(out::add));
        return out;
    }
}
