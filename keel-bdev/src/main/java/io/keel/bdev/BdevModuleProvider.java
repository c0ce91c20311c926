package io.keel.bdev;

import io.keel.core.app.KeelApp;

/**
 * A bdev module that lives outside keel-bdev (the NVMe-oF host's {@code nvme}, ...): found by
 * {@link java.util.ServiceLoader} when the bdev layer plugs in, after the built-in modules, so it always finds
 * the layer made and registers in a stable order.
 */
public interface BdevModuleProvider {
    void register(KeelApp app, BdevLayer layer);
}
