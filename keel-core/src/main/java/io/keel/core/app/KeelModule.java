package io.keel.core.app;

/**
 * A module of Keel (bdev, nvmf, vhost, ...): found through {@link java.util.ServiceLoader} and asked to
 * register its subsystems and RPC methods, so that keel-core calls back into modules without knowing them.
 */
public interface KeelModule {
    void register(KeelApp app);
}
