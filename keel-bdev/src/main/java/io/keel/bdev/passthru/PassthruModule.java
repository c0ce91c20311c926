package io.keel.bdev.passthru;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.Uuids;
import io.keel.bdev.VirtualBdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import java.util.List;
import java.util.UUID;

/**
 * The passthru module (SPDK's {@code vbdev_passthru}): {@code bdev_passthru_create}, {@code bdev_passthru_delete}.
 * The template for virtual bdev modules: {@link VirtualBdevModule} does the bookkeeping (association, examine,
 * build, base events, delete), and the association outlives a removal of the base, so the passthru comes back with
 * it.
 */
public final class PassthruModule extends VirtualBdevModule<PassthruModule.CreateParams, PassthruBdev> {
    /** SPDK's BDEV_PASSTHRU_NAMESPACE_UUID: a passthru without a configured uuid gets uuid5(this, base uuid). */
    private static final UUID NAMESPACE = UUID.fromString("7e25812e-c8c0-4d3f-8599-16d790555b85");

    /** Also the association kept until delete. */
    record CreateParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String baseBdevName,
            UUID uuid) implements Association {
        @Override
        public List<String> baseBdevNames() {
            return List.of(baseBdevName);
        }
    }

    private PassthruModule(BdevLayer layer) {
        super(layer, "passthru", "passthru", Lifetime.UNTIL_DELETE);
    }

    public static void register(KeelApp app, BdevLayer layer) {
        PassthruModule m = new PassthruModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_passthru_create", CreateParams.class, (p, call) -> {
            m.create(p);
            call.respond(p.name());
        });
        m.registerDelete(app, "bdev_passthru_delete");
    }

    @Override
    protected PassthruBdev newBdev(CreateParams a, List<BdevDesc> bases) {
        BdevDesc base = bases.getFirst();
        UUID uuid = a.uuid() != null ? a.uuid() : Uuids.uuid5(NAMESPACE, base.bdev().uuid());
        return new PassthruBdev(this, a.name(), uuid, base);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs().stream().map(b -> new ConfigEntry("bdev_passthru_create", b.createParams())).toList();
    }
}
