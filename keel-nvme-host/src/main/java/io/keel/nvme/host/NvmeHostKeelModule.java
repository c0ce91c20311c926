package io.keel.nvme.host;

import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModuleProvider;
import io.keel.core.app.KeelApp;
import io.keel.nvme.host.bdev.NvmeBdevModule;

/** Plugs the NVMe-oF host's {@code nvme} bdev module into the bdev layer (found by ServiceLoader). */
public final class NvmeHostKeelModule implements BdevModuleProvider {
    @Override
    public void register(KeelApp app, BdevLayer layer) {
        NvmeBdevModule.register(app, layer);
    }
}
