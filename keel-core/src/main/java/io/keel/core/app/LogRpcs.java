package io.keel.core.app;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.core.log.LogFlags;
import io.keel.core.log.LogLevel;
import io.keel.core.log.LogLevels;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.rpc.RpcState;
import java.util.Arrays;

/** SPDK's log methods: flags, level and print level. */
final class LogRpcs {
    record FlagParams(@JsonProperty(required = true) String flag) {
    }

    record LevelParams(@JsonProperty(required = true) String level) {
    }

    private LogRpcs() {
    }

    static void register(RpcMethods m) {
        m.register("log_set_flag", FlagParams.class, (p, call) -> call.respond(setFlag(p.flag(), true)),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_clear_flag", FlagParams.class, (p, call) -> call.respond(setFlag(p.flag(), false)),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_get_flags", Void.class, (p, call) -> call.respond(LogFlags.snapshot()),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_set_level", LevelParams.class, (p, call) -> {
            LogLevels.level(level(p.level()));
            call.respond(true);
        }, RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_get_level", Void.class, (p, call) -> call.respond(LogLevels.level().name()),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_set_print_level", LevelParams.class, (p, call) -> {
            LogLevels.printLevel(level(p.level()));
            call.respond(true);
        }, RpcState.STARTUP, RpcState.RUNTIME);
        m.register("log_get_print_level", Void.class, (p, call) -> call.respond(LogLevels.printLevel().name()),
                RpcState.STARTUP, RpcState.RUNTIME);
    }

    private static boolean setFlag(String flag, boolean on) {
        if (!LogFlags.set(flag, on)) {
            throw RpcException.invalidParams("unknown log flag '" + flag + "'");
        }
        return true;
    }

    /** SPDK accepts the level names in any case ("debug", "WARNING"); "WARN" too. */
    private static LogLevel level(String name) {
        String n = name.toUpperCase(java.util.Locale.ROOT);
        if (n.equals("WARN")) {
            n = "WARNING";
        }
        try {
            return LogLevel.valueOf(n);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams("unknown log level '" + name + "'; expected one of "
                    + Arrays.toString(LogLevel.values()));
        }
    }
}
