package io.keel.vhost.initiator;

import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModuleProvider;
import io.keel.core.app.KeelApp;

/** Plugs the {@code virtio_blk} bdev module into the bdev layer (found by ServiceLoader). */
public final class VirtioBdevProvider implements BdevModuleProvider {
    @Override
    public void register(KeelApp app, BdevLayer layer) {
        VirtioBdevModule.register(app, layer);
    }
}
