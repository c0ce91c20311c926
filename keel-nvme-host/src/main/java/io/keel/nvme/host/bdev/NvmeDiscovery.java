package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.TransportId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code nvme} module's discovery services by name, with SPDK's RPCs: {@code bdev_nvme_start_discovery},
 * {@code bdev_nvme_stop_discovery}, {@code bdev_nvme_get_discovery_info}; and what {@code save_config} writes for
 * them. Application thread only.
 */
final class NvmeDiscovery {
    record StopParams(@JsonProperty(required = true) String name) {
    }

    private final NvmeBdevModule module;
    /** By name, in start order; a service stays here until it has stopped. */
    private final Map<String, DiscoveryService> services = new LinkedHashMap<>();

    NvmeDiscovery(NvmeBdevModule module) {
        this.module = module;
    }

    void register(KeelApp app) {
        app.methods().register("bdev_nvme_start_discovery", DiscoveryParams.class, this::start);
        app.methods().register("bdev_nvme_stop_discovery", StopParams.class, this::stop);
        app.methods().register("bdev_nvme_get_discovery_info", Void.class, (p, call) -> call.respond(info()));
    }

    private void start(DiscoveryParams p, RpcCall call) {
        HostTransport transport = module.usableTransport(p.trtype());
        TransportId trid;
        try {
            trid = new TransportId(transport.name(), p.adrfam() == null ? "IPv4" : p.adrfam(), p.traddr(),
                    p.trsvcid() == null ? TransportId.DEFAULT_PORT : Integer.parseInt(p.trsvcid()),
                    HostController.DISCOVERY_NQN);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
        ReconnectPolicy policy = new ReconnectPolicy(orZero(p.ctrlrLossTimeoutSec()), orZero(p.reconnectDelaySec()),
                orZero(p.fastIoFailTimeoutSec()));
        long timeoutMs = p.attachTimeoutMs() == null ? 0 : p.attachTimeoutMs();
        if (timeoutMs < 0) {
            throw RpcException.invalidParams("attach_timeout_ms must not be negative");
        }
        for (DiscoveryService s : services.values()) {
            if (s.name().equals(p.name()) || s.connectsTo(trid)) {
                throw RpcException.errno(Errno.EEXIST, "File exists");
            }
        }
        boolean wait = Boolean.TRUE.equals(p.waitForAttach()) || timeoutMs != 0;
        String hostnqn = p.hostnqn() != null ? p.hostnqn() : ControllerOptions.hostNqnOf(module.defaultHostId());
        DiscoveryService s = new DiscoveryService(this, module, p.name(), trid, hostnqn, wait, timeoutMs, policy);
        services.put(p.name(), s);
        if (!wait) {
            s.start(null);
            call.respond(true);
            return;
        }
        s.start((errno, message) -> {
            if (errno == 0) {
                call.respond(true);
            } else {
                call.fail(errno, message);
            }
        });
    }

    private static int orZero(Integer v) {
        return v == null ? 0 : v;
    }

    private void stop(StopParams p, RpcCall call) {
        DiscoveryService s = services.get(p.name());
        if (s == null) {
            throw RpcException.errno(Errno.ENOENT, "No such file or directory");
        }
        if (s.stopping()) {
            throw RpcException.errno(Errno.EALREADY, "Operation already in progress");
        }
        s.stop(() -> call.respond(true));
    }

    private ArrayNode info() {
        ArrayNode out = Json.MAPPER.createArrayNode();
        services.values().forEach(s -> out.add(s.info()));
        return out;
    }

    /** The {@code bdev_nvme_start_discovery} calls that start the services again. */
    List<ConfigEntry> config() {
        return services.values().stream().filter(s -> !s.stopping()).map(DiscoveryService::config).toList();
    }

    /** Whether a discovery service attached {@code path} (save_config leaves it to the service). */
    boolean attached(NvmeCtrlr path) {
        return services.values().stream().anyMatch(s -> s.attached(path));
    }

    /** The name a discovery service attached subsystem {@code subnqn} under, or null. */
    String nameOf(String subnqn) {
        for (DiscoveryService s : services.values()) {
            String name = s.nameOf(subnqn);
            if (name != null) {
                return name;
            }
        }
        return null;
    }

    /** Stops every service (module fini); {@code done} runs once all have stopped. */
    void stopAll(Runnable done) {
        List<DiscoveryService> all = List.copyOf(services.values());
        int[] left = {all.size() + 1};
        Runnable step = () -> {
            if (--left[0] == 0) {
                done.run();
            }
        };
        all.forEach(s -> s.stop(step));
        step.run();
    }

    /** {@code s} has stopped: it leaves the list. */
    void stopped(DiscoveryService s) {
        services.remove(s.name(), s);
    }
}
