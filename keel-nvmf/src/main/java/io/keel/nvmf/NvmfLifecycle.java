package io.keel.nvmf;

import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.app.Subsystem;
import io.keel.core.rpc.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "nvmf" subsystem of the application: makes the discovery subsystem at init, deletes every subsystem at fini
 * (releasing the namespaces' bdevs before the bdev subsystem finishes), and saves the target in SPDK's order:
 * nvmf_set_config, nvmf_set_max_subsystems, nvmf_create_transport, then per subsystem nvmf_create_subsystem,
 * nvmf_subsystem_add_host, nvmf_subsystem_add_ns.
 */
final class NvmfLifecycle implements Subsystem {
    private static final Logger LOG = LoggerFactory.getLogger(NvmfLifecycle.class);
    /** SPDK's nvmf depends on bdev, keyring, sock, accel and iobuf; Keel has bdev and iobuf. */
    static final List<String> DEPENDENCIES = List.of("bdev", "iobuf");

    private final KeelApp app;
    private final Target target;

    NvmfLifecycle(KeelApp app, Target target) {
        this.app = app;
        this.target = target;
    }

    @Override
    public String name() {
        return "nvmf";
    }

    @Override
    public List<String> dependsOn() {
        return DEPENDENCIES;
    }

    @Override
    public void init(Consumer<Throwable> done) {
        try {
            target.start();
            done.accept(null);
        } catch (RuntimeException e) {
            done.accept(e);
        }
    }

    @Override
    public void fini(Runnable done) {
        try {
            target.stop(done);
        } catch (RuntimeException e) {
            LOG.warn("nvmf: stopping the target failed", e);
            done.run();
        }
    }

    @Override
    public void writeConfig(Consumer<List<ConfigEntry>> done) {
        app.onAppThread(() -> {
            List<ConfigEntry> out = new ArrayList<>();
            out.add(new ConfigEntry("nvmf_set_config", target.config().describe()));
            var max = Json.object();
            max.put("max_subsystems", target.maxSubsystems());
            out.add(new ConfigEntry("nvmf_set_max_subsystems", max));
            for (TransportOptions t : target.transports()) {
                out.add(new ConfigEntry("nvmf_create_transport", t.describe()));
            }
            for (NvmfSubsystem s : target.subsystems()) {
                if (s.type() != NvmfSubsystem.Type.NVME || s.state() != NvmfSubsystem.State.ACTIVE) {
                    continue;
                }
                out.add(new ConfigEntry("nvmf_create_subsystem", s.createParams()));
                for (String h : s.hosts()) {
                    var p = Json.object();
                    p.put("nqn", s.nqn());
                    p.put("host", h);
                    out.add(new ConfigEntry("nvmf_subsystem_add_host", p));
                }
                for (Namespace ns : s.namespaces()) {
                    var p = Json.object();
                    p.put("nqn", s.nqn());
                    p.set("namespace", ns.config());
                    out.add(new ConfigEntry("nvmf_subsystem_add_ns", p));
                }
            }
            for (NvmfSubsystem s : target.subsystems()) { // listeners last, discovery first, as SPDK saves them
                if (s.state() != NvmfSubsystem.State.ACTIVE) {
                    continue;
                }
                for (var a : s.listeners()) {
                    var p = Json.object();
                    p.put("nqn", s.nqn());
                    p.set("listen_address", NvmfSubsystem.describe(a));
                    p.put("secure_channel", false);
                    out.add(new ConfigEntry("nvmf_subsystem_add_listener", p));
                }
            }
            done.accept(out);
        });
    }
}
