package io.keel.bdev;

import io.keel.bdev.delay.DelayModule;
import io.keel.bdev.error.ErrorModule;
import io.keel.bdev.malloc.MallocModule;
import io.keel.bdev.nul.NullModule;
import io.keel.bdev.passthru.PassthruModule;
import io.keel.bdev.raid.RaidModule;
import io.keel.bdev.uring.UringModule;
import io.keel.core.app.KeelApp;
import io.keel.core.app.KeelModule;
import java.util.ServiceLoader;

/** Plugs the bdev layer and its modules into a Keel application (found by ServiceLoader). */
public final class BdevKeelModule implements KeelModule {
    @Override
    public void register(KeelApp app) {
        BdevLayer layer = new BdevLayer();
        app.provide(BdevLayer.class, layer);
        app.subsystems().add(new BdevSubsystem(app, layer));
        BdevRpcs.register(app, layer);
        // base bdev modules first: save_config lists modules in this order, and virtual bdevs need their bases
        MallocModule.register(app, layer);
        NullModule.register(app, layer);
        UringModule.register(app, layer);
        // virtual bdev modules after them (each also builds on bases that arrive later: see BdevModule.examine)
        ErrorModule.register(app, layer);
        DelayModule.register(app, layer);
        PassthruModule.register(app, layer);
        RaidModule.register(app, layer);
        // modules of other Keel modules (nvme), once the layer and the built-in modules exist
        for (BdevModuleProvider p : ServiceLoader.load(BdevModuleProvider.class)) {
            p.register(app, layer);
        }
    }
}
