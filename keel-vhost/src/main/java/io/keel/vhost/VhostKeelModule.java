package io.keel.vhost;

import io.keel.core.app.KeelApp;
import io.keel.core.app.KeelModule;

/** Plugs vhost-user-blk controllers into a Keel application (found by ServiceLoader). */
public final class VhostKeelModule implements KeelModule {
    @Override
    public void register(KeelApp app) {
        VhostTarget target = new VhostTarget(app);
        app.provide(VhostTarget.class, target);
        app.subsystems().add(new VhostBlkLifecycle(app, target));
        VhostRpcs.register(app, target);
    }
}
