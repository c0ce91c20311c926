package io.keel.core.app;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcState;
import java.util.List;
import java.util.function.Consumer;

/**
 * The "scheduler" subsystem: which thread scheduler runs and how often. Keel has SPDK's {@code static}
 * scheduler (threads stay where they were placed); its period is kept and saved as SPDK does.
 */
final class SchedulerSubsystem implements Subsystem {
    record SetParams(@JsonProperty(required = true) String name, Long period, Integer loadLimit, Integer coreLimit,
            Integer coreBusy, String mappings) {
    }

    record Info(String schedulerName, long schedulerPeriod, String isolatedCoreMask, int schedulingCore) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Saved(String name, Long period) {
    }

    private final KeelApp app;
    private String name = "static";
    // null until a period is given: reported as 0 and not saved, so a saved config reloads into the same config
    private Long period;

    private SchedulerSubsystem(KeelApp app) {
        this.app = app;
    }

    static void register(KeelApp app) {
        SchedulerSubsystem s = new SchedulerSubsystem(app);
        app.subsystems().add(s);
        app.methods().register("framework_set_scheduler", SetParams.class, (p, call) -> {
            s.set(p);
            call.respond(true);
        }, RpcState.STARTUP, RpcState.RUNTIME);
        app.methods().register("framework_get_scheduler", Void.class, (p, call) -> call.respond(s.info()));
    }

    private void set(SetParams p) {
        if (!"static".equals(p.name())) {
            throw RpcException.invalidParams("scheduler '" + p.name() + "' is not available; Keel has: static");
        }
        if (p.loadLimit() != null || p.coreLimit() != null || p.coreBusy() != null) {
            throw RpcException.invalidParams("load_limit, core_limit and core_busy apply to the dynamic scheduler only");
        }
        if (p.mappings() != null && !p.mappings().isBlank()) {
            throw RpcException.invalidParams("thread mappings are not supported by Keel's static scheduler");
        }
        if (p.period() != null && p.period() <= 0) {
            throw RpcException.invalidParams("period must be positive");
        }
        name = p.name();
        if (p.period() != null) {
            period = p.period();
        }
    }

    private Info info() {
        return new Info(name, period == null ? 0 : period, "0", app.options().cores().first());
    }

    @Override
    public String name() {
        return "scheduler";
    }

    @Override
    public void writeConfig(Consumer<List<ConfigEntry>> done) {
        done.accept(List.of(new ConfigEntry("framework_set_scheduler", Json.tree(new Saved(name, period)))));
    }
}
