package io.keel.bdev.delay;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.ModuleRpcs;
import io.keel.bdev.Uuids;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delay module (SPDK's {@code vbdev_delay}): {@code bdev_delay_create}, {@code bdev_delay_update_latency},
 * {@code bdev_delay_delete}. Built like passthru ({@link io.keel.bdev.passthru.PassthruModule}): an association
 * kept from create to delete, built at once or when the base registers, rebuilt if the base comes back after a
 * removal. Latencies are in microseconds. Application thread throughout.
 */
public final class DelayModule implements BdevModule {
    private static final Logger LOG = LoggerFactory.getLogger(DelayModule.class);
    /** SPDK's BDEV_DELAY_NAMESPACE_UUID: a delay bdev without a configured uuid gets uuid5(this, base uuid). */
    private static final UUID NAMESPACE = UUID.fromString("4009b574-6430-4f1b-bc40-ace811091027");

    record CreateParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String baseBdevName,
            @JsonProperty(required = true) Long avgReadLatency, @JsonProperty(required = true) Long p99ReadLatency,
            @JsonProperty(required = true) Long avgWriteLatency, @JsonProperty(required = true) Long p99WriteLatency,
            UUID uuid) {
    }

    record UpdateParams(@JsonProperty(required = true) String delayBdevName,
            @JsonProperty(required = true) String latencyType, @JsonProperty(required = true) Long latencyUs) {
    }

    record DeleteParams(@JsonProperty(required = true) String name) {
    }

    private record Association(String name, String baseBdevName, UUID uuid, long avgRead, long p99Read,
            long avgWrite, long p99Write) {
    }

    private final BdevLayer layer;
    private final List<Association> associations = new CopyOnWriteArrayList<>();
    private final List<DelayBdev> bdevs = new CopyOnWriteArrayList<>();

    private DelayModule(BdevLayer layer) {
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        DelayModule m = new DelayModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_delay_create", CreateParams.class, (p, call) -> call.respond(m.create(p)));
        app.methods().register("bdev_delay_update_latency", UpdateParams.class, (p, call) -> {
            m.update(p);
            call.respond(true);
        });
        app.methods().register("bdev_delay_delete", DeleteParams.class, (p, call) -> m.delete(p, call));
    }

    @Override
    public String name() {
        return "delay";
    }

    // ---- RPCs ----

    private String create(CreateParams p) {
        nonNegative("avg_read_latency", p.avgReadLatency());
        nonNegative("p99_read_latency", p.p99ReadLatency());
        nonNegative("avg_write_latency", p.avgWriteLatency());
        nonNegative("p99_write_latency", p.p99WriteLatency());
        if (p.p99ReadLatency() < p.avgReadLatency() || p.p99WriteLatency() < p.avgWriteLatency()) {
            throw RpcException.errno(Errno.EINVAL, "Invalid argument"); // SPDK: p99 latency below the average
        }
        for (Association a : associations) {
            if (a.name().equals(p.name())) {
                throw RpcException.errno(Errno.EEXIST, "File exists");
            }
        }
        Association a = new Association(p.name(), p.baseBdevName(), p.uuid(), p.avgReadLatency(), p.p99ReadLatency(),
                p.avgWriteLatency(), p.p99WriteLatency());
        associations.add(a);
        try {
            build(a);
        } catch (BdevException e) {
            if (e.errno() == -Errno.ENODEV) {
                LOG.info("delay {}: creation deferred until bdev {} arrives", a.name(), a.baseBdevName());
                return p.name();
            }
            associations.remove(a);
            throw ModuleRpcs.error(e);
        } catch (RuntimeException e) {
            associations.remove(a);
            throw e;
        }
        return p.name();
    }

    /** As SPDK: an unknown name or type is -32602; the new latency applies to I/O held from now on. */
    private void update(UpdateParams p) {
        LatencyType type = LatencyType.fromWire(p.latencyType());
        if (type == null) {
            throw new RpcException(RpcException.INVALID_PARAMS, "Please specify a valid latency type.");
        }
        nonNegative("latency_us", p.latencyUs());
        DelayBdev b = built(p.delayBdevName());
        if (b == null) {
            throw new RpcException(RpcException.INVALID_PARAMS, "The requested bdev does not exist.");
        }
        b.latency(type, p.latencyUs());
        LOG.info("delay {}: {} latency now {} us", b.name(), type.wireName(), p.latencyUs());
    }

    private void delete(DeleteParams p, RpcCall call) {
        Bdev b = layer.get(p.name());
        if (b == null || b.module() != this || !b.name().equals(p.name())) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        associations.removeIf(a -> a.name().equals(p.name()));
        layer.unregister(b, rc -> ModuleRpcs.respond(call, b, rc));
    }

    private static void nonNegative(String param, long value) {
        if (value < 0) {
            throw RpcException.invalidParams(param + " must not be negative, not " + value);
        }
    }

    // ---- building on a base ----

    @Override
    public void examine(Bdev bdev) {
        for (Association a : associations) {
            boolean isBase = a.baseBdevName().equals(bdev.name()) || bdev.aliases().contains(a.baseBdevName());
            if (isBase && built(a.name()) == null) {
                try {
                    build(a);
                } catch (BdevException e) {
                    LOG.error("delay {}: cannot build on bdev {}: {}", a.name(), bdev.name(), e.getMessage());
                }
            }
        }
    }

    private void build(Association a) {
        BdevDesc base = layer.open(a.baseBdevName(), true, this::onBaseEvent);
        try {
            layer.claim(base, this);
            UUID uuid = a.uuid() != null ? a.uuid() : Uuids.uuid5(NAMESPACE, base.bdev().uuid());
            DelayBdev b = new DelayBdev(this, a.name(), uuid, base, a.avgRead(), a.p99Read(), a.avgWrite(), a.p99Write());
            layer.register(b);
            bdevs.add(b);
            LOG.info("delay {} created on bdev {}", a.name(), base.bdev().name());
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    private void onBaseEvent(BdevEvent event, Bdev base) {
        if (event != BdevEvent.REMOVE) {
            LOG.info("delay: ignoring {} of bdev {}", event, base.name());
            return;
        }
        for (DelayBdev b : bdevs) {
            if (b.baseDesc().bdev() == base) {
                LOG.info("delay {}: base bdev {} is being removed", b.name(), base.name());
                layer.unregister(b, () -> { });
            }
        }
    }

    private DelayBdev built(String name) {
        for (DelayBdev b : bdevs) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    void forget(DelayBdev b) {
        bdevs.remove(b);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs.stream().map(b -> new ConfigEntry("bdev_delay_create", b.createParams())).toList();
    }
}
