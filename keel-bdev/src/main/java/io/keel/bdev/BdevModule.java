package io.keel.bdev;

import io.keel.core.app.ConfigEntry;
import java.util.List;

/** A bdev module (malloc, null, uring, error, delay, passthru...): makes bdevs and saves how to remake them. */
public interface BdevModule {
    /** The module's name, as SPDK names it ({@code malloc}, {@code null}, ...). */
    String name();

    /**
     * Looks at a bdev just registered (SPDK's {@code examine_config}): a virtual bdev module builds here what it
     * was configured to build on top of a base that did not exist yet. App thread, synchronously; failures are
     * the module's to log.
     */
    default void examine(Bdev bdev) {
    }

    /**
     * The RPC calls that restore this module's options ({@code bdev_raid_set_options}), saved before any module's
     * bdevs, as SPDK's {@code config_json} writes them. App thread.
     */
    default List<ConfigEntry> optionsConfig() {
        return List.of();
    }

    /** The RPC calls that recreate this module's bdevs, in order ({@code save_config}). App thread. */
    default List<ConfigEntry> config() {
        return List.of();
    }

    /**
     * Shuts the module down at application exit, after every bdev is gone (SPDK's {@code module_fini}): what it
     * holds beyond its bdevs (remote controllers, ...) goes. App thread; call {@code done} when finished.
     */
    default void fini(Runnable done) {
        done.run();
    }
}
