package io.keel.bdev;

import io.keel.core.app.ConfigEntry;
import java.util.List;

/** A bdev module (malloc, null, uring, error, delay, passthru...): makes bdevs and saves how to remake them. */
public interface BdevModule {
    /** The module's name, as SPDK names it ({@code malloc}, {@code null}, ...). */
    String name();

    /** The RPC calls that recreate this module's bdevs, in order ({@code save_config}). App thread. */
    default List<ConfigEntry> config() {
        return List.of();
    }
}
