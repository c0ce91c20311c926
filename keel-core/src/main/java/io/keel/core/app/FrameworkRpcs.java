package io.keel.core.app;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.rpc.RpcState;
import io.keel.core.sys.OsThreads;
import java.util.List;
import java.util.Map;

/** The framework's own methods: methods, version, subsystems, config, init and kill. */
final class FrameworkRpcs {
    private static final Map<String, Integer> SIGNALS = Map.of(
            "SIGHUP", 1, "SIGINT", 2, "SIGQUIT", 3, "SIGKILL", 9, "SIGUSR1", 10, "SIGTERM", 15);

    record GetMethodsParams(Boolean current, Boolean includeAliases) {
    }

    record GetConfigParams(@JsonProperty(required = true) String name, Boolean withBatches) {
    }

    record KillParams(@JsonProperty(required = true) String sigName) {
    }

    record SubsystemInfo(String subsystem, List<String> dependsOn) {
    }

    private FrameworkRpcs() {
    }

    static void register(KeelApp app) {
        RpcMethods m = app.methods();
        m.register("rpc_get_methods", GetMethodsParams.class,
                (p, call) -> call.respond(m.names(Boolean.TRUE.equals(p.current()))),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("spdk_get_version", Void.class, (p, call) -> call.respond(Version.current()),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("framework_get_subsystems", Void.class, (p, call) -> call.respond(
                app.subsystems().ordered().stream().map(s -> new SubsystemInfo(s.name(), s.dependsOn())).toList()));
        m.register("framework_get_config", GetConfigParams.class, (p, call) -> {
            Subsystem s = app.subsystems().get(p.name());
            if (s == null) {
                throw RpcException.invalidParams("subsystem '" + p.name() + "' not found");
            }
            s.writeConfig(entries -> {
                ArrayNode out = Json.MAPPER.createArrayNode();
                for (ConfigEntry e : entries) {
                    ObjectNode o = out.addObject();
                    o.put("method", e.method());
                    if (e.params() != null) {
                        o.set("params", e.params());
                    }
                }
                call.respond(out);
            });
        });
        m.register("framework_start_init", Void.class, (p, call) -> app.startInit(err -> {
            if (err == null) {
                call.respond(true);
            } else {
                call.fail(RpcException.INTERNAL_ERROR, err);
            }
        }), RpcState.STARTUP);
        m.register("framework_wait_init", Void.class, (p, call) -> app.whenInitialized(() -> call.respond(true)),
                RpcState.STARTUP, RpcState.RUNTIME);
        m.register("spdk_kill_instance", KillParams.class, (p, call) -> {
            Integer sig = SIGNALS.get(p.sigName());
            if (sig == null) {
                throw RpcException.invalidParams("unknown signal '" + p.sigName() + "'; expected one of " + SIGNALS.keySet());
            }
            call.respond(true);
            // after the answer has been written: the signal may end the process at once
            app.appThread().send(() -> OsThreads.kill(ProcessHandle.current().pid(), sig));
        }, RpcState.STARTUP, RpcState.RUNTIME);
    }
}
