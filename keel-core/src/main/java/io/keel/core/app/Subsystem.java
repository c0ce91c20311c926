package io.keel.core.app;

import java.util.List;
import java.util.function.Consumer;

/**
 * A part of the application with a lifecycle and a saved configuration (SPDK's subsystems: bdev, nvmf, ...).
 * Every callback runs on the application thread; {@code done} may be completed from any thread.
 */
public interface Subsystem {
    /** The name in {@code framework_get_subsystems} and in config files. */
    String name();

    /** Subsystems that must be initialised before this one (and finished after it). */
    default List<String> dependsOn() {
        return List.of();
    }

    /** Initialises; calls {@code done} with null on success or the error. */
    default void init(Consumer<Throwable> done) {
        done.accept(null);
    }

    /** Releases everything; calls {@code done} when finished. Must not fail: log and go on. */
    default void fini(Runnable done) {
        done.run();
    }

    /** The RPC calls that recreate the current state, in order ({@code framework_get_config}). */
    default void writeConfig(Consumer<List<ConfigEntry>> done) {
        done.accept(List.of());
    }
}
