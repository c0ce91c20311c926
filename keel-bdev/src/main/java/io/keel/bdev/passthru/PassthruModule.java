package io.keel.bdev.passthru;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.ModuleRpcs;
import io.keel.bdev.Uuids;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The passthru module (SPDK's {@code vbdev_passthru}): {@code bdev_passthru_create}, {@code bdev_passthru_delete}.
 * The template for virtual bdev modules; everything runs on the application thread (RPCs, examine, base events).
 *
 * <p>As SPDK: create records an association (passthru name, base name, uuid) and builds the passthru bdev at
 * once if the base exists, else whenever a bdev of that name registers ({@link #examine}). Building opens the base
 * for writing and claims it, so nothing else writes to it. When the base is removed (REMOVE), the passthru bdev
 * unregisters itself but the association stays, so the passthru comes back with the base; delete forgets it.
 */
public final class PassthruModule implements BdevModule {
    private static final Logger LOG = LoggerFactory.getLogger(PassthruModule.class);
    /** SPDK's BDEV_PASSTHRU_NAMESPACE_UUID: a passthru without a configured uuid gets uuid5(this, base uuid). */
    private static final UUID NAMESPACE = UUID.fromString("7e25812e-c8c0-4d3f-8599-16d790555b85");

    record CreateParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String baseBdevName,
            UUID uuid) {
    }

    record DeleteParams(@JsonProperty(required = true) String name) {
    }

    /** What create asked for; kept until delete, so examine can (re)build it. */
    private record Association(String name, String baseBdevName, UUID uuid) {
    }

    private final BdevLayer layer;
    private final List<Association> associations = new CopyOnWriteArrayList<>();
    private final List<PassthruBdev> bdevs = new CopyOnWriteArrayList<>();

    private PassthruModule(BdevLayer layer) {
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        PassthruModule m = new PassthruModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_passthru_create", CreateParams.class, (p, call) -> call.respond(m.create(p)));
        app.methods().register("bdev_passthru_delete", DeleteParams.class, (p, call) -> m.delete(p, call));
    }

    @Override
    public String name() {
        return "passthru";
    }

    // ---- RPCs ----

    private String create(CreateParams p) {
        for (Association a : associations) {
            if (a.name().equals(p.name())) {
                throw RpcException.errno(Errno.EEXIST, "File exists");
            }
        }
        Association a = new Association(p.name(), p.baseBdevName(), p.uuid());
        associations.add(a);
        try {
            build(a);
        } catch (BdevException e) {
            if (e.errno() == -Errno.ENODEV) {
                LOG.info("passthru {}: creation deferred until bdev {} arrives", a.name(), a.baseBdevName());
                return p.name();
            }
            associations.remove(a); // unlike SPDK, a refused create leaves nothing behind to block a retry
            throw ModuleRpcs.error(e);
        } catch (RuntimeException e) {
            associations.remove(a);
            throw e;
        }
        return p.name();
    }

    private void delete(DeleteParams p, RpcCall call) {
        Bdev b = layer.get(p.name());
        if (b == null || b.module() != this || !b.name().equals(p.name())) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        associations.removeIf(a -> a.name().equals(p.name())); // not to be rebuilt when the base comes back
        layer.unregister(b, rc -> ModuleRpcs.respond(call, b, rc));
    }

    // ---- building on a base ----

    @Override
    public void examine(Bdev bdev) {
        for (Association a : associations) {
            if (isBase(a, bdev) && built(a.name()) == null) {
                try {
                    build(a);
                } catch (BdevException e) {
                    LOG.error("passthru {}: cannot build on bdev {}: {}", a.name(), bdev.name(), e.getMessage());
                }
            }
        }
    }

    /** Opens and claims the base, then registers the passthru bdev on it; undoes it all if a step is refused. */
    private void build(Association a) {
        BdevDesc base = layer.open(a.baseBdevName(), true, this::onBaseEvent);
        try {
            layer.claim(base, this);
            UUID uuid = a.uuid() != null ? a.uuid() : Uuids.uuid5(NAMESPACE, base.bdev().uuid());
            PassthruBdev b = new PassthruBdev(this, a.name(), uuid, base);
            layer.register(b);
            bdevs.add(b);
            LOG.info("passthru {} created on bdev {}", a.name(), base.bdev().name());
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /** The base's events (application thread): on REMOVE the passthru bdevs on it unregister themselves. */
    private void onBaseEvent(BdevEvent event, Bdev base) {
        if (event != BdevEvent.REMOVE) {
            LOG.info("passthru: ignoring {} of bdev {}", event, base.name());
            return;
        }
        for (PassthruBdev b : bdevs) {
            if (b.baseDesc().bdev() == base) {
                LOG.info("passthru {}: base bdev {} is being removed", b.name(), base.name());
                layer.unregister(b, () -> { });
            }
        }
    }

    private static boolean isBase(Association a, Bdev bdev) {
        return a.baseBdevName().equals(bdev.name()) || bdev.aliases().contains(a.baseBdevName());
    }

    private PassthruBdev built(String name) {
        for (PassthruBdev b : bdevs) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    void forget(PassthruBdev b) {
        bdevs.remove(b);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs.stream().map(b -> new ConfigEntry("bdev_passthru_create", b.createParams())).toList();
    }
}
