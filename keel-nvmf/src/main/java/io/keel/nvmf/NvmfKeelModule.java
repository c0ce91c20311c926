package io.keel.nvmf;

import io.keel.core.app.KeelApp;
import io.keel.core.app.KeelModule;

/** Plugs the NVMe-oF target into a Keel application (found by ServiceLoader). */
public final class NvmfKeelModule implements KeelModule {
    @Override
    public void register(KeelApp app) {
        Target target = new Target(app);
        app.provide(Target.class, target);
        app.subsystems().add(new NvmfLifecycle(app, target));
        NvmfRpcs.register(app, target);
        NvmfConnectionRpcs.register(app, target);
    }
}
