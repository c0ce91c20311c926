package io.keel.vhost;

import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.app.Subsystem;
import io.keel.core.rpc.Json;
import io.keel.vhost.blk.BlkController;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The "vhost_blk" subsystem: deletes every controller at fini (before the bdev subsystem finishes) and saves each
 * as SPDK does: {@code vhost_create_blk_controller}, then {@code vhost_controller_set_coalescing} when it has a
 * coalescing delay.
 */
final class VhostBlkLifecycle implements Subsystem {
    private final KeelApp app;
    private final VhostTarget target;

    VhostBlkLifecycle(KeelApp app, VhostTarget target) {
        this.app = app;
        this.target = target;
    }

    @Override
    public String name() {
        return "vhost_blk";
    }

    @Override
    public List<String> dependsOn() {
        return List.of("bdev");
    }

    @Override
    public void fini(Runnable done) {
        app.onAppThread(() -> target.deleteAll(done));
    }

    @Override
    public void writeConfig(Consumer<List<ConfigEntry>> done) {
        app.onAppThread(() -> {
            List<ConfigEntry> out = new ArrayList<>();
            for (BlkController c : target.controllers()) {
                if (c.state() != BlkController.State.ACTIVE) {
                    continue;
                }
                var p = Json.object();
                p.put("ctrlr", c.name());
                p.put("dev_name", c.bdevName());
                p.put("cpumask", c.cpumask().toString());
                p.put("readonly", c.readonly());
                p.put("transport", "vhost_user_blk");
                out.add(new ConfigEntry("vhost_create_blk_controller", p));
                if (c.delayBaseUs() != 0) {
                    var q = Json.object();
                    q.put("ctrlr", c.name());
                    q.put("delay_base_us", c.delayBaseUs());
                    q.put("iops_threshold", c.iopsThreshold());
                    out.add(new ConfigEntry("vhost_controller_set_coalescing", q));
                }
            }
            done.accept(out);
        });
    }
}
