package io.keel.core.log;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Every registered log flag, process-wide as in SPDK. */
public final class LogFlags {
    private static final ConcurrentHashMap<String, LogFlag> FLAGS = new ConcurrentHashMap<>();

    /** Flags of keel-core itself. */
    public static final LogFlag REACTOR = register("reactor");
    public static final LogFlag THREAD = register("thread");
    public static final LogFlag RPC = register("rpc");
    public static final LogFlag APP_CONFIG = register("app_config");

    private LogFlags() {
    }

    /** Registers (or returns the existing) flag; modules call this for their own components. */
    public static LogFlag register(String name) {
        return FLAGS.computeIfAbsent(name, LogFlag::new);
    }

    /** Sets one flag, or all with "all"; false if no such flag. */
    public static boolean set(String name, boolean value) {
        if ("all".equals(name)) {
            FLAGS.values().forEach(f -> f.set(value));
            return true;
        }
        LogFlag f = FLAGS.get(name);
        if (f == null) {
            return false;
        }
        f.set(value);
        return true;
    }

    /** Every flag and its state, sorted by name (the shape of {@code log_get_flags}). */
    public static Map<String, Boolean> snapshot() {
        Map<String, Boolean> out = new TreeMap<>();
        FLAGS.forEach((k, v) -> out.put(k, v.on()));
        return out;
    }
}
