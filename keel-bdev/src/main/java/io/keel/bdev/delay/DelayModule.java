package io.keel.bdev.delay;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.Uuids;
import io.keel.bdev.VirtualBdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcException;
import java.util.List;
import java.util.UUID;

/**
 * The delay module (SPDK's {@code vbdev_delay}): {@code bdev_delay_create}, {@code bdev_delay_update_latency},
 * {@code bdev_delay_delete}. Built like passthru ({@link io.keel.bdev.passthru.PassthruModule}) on
 * {@link VirtualBdevModule}: an association kept from create to delete, built at once or when the base registers,
 * rebuilt if the base comes back after a removal. Latencies are in microseconds. Application thread throughout.
 */
public final class DelayModule extends VirtualBdevModule<DelayModule.CreateParams, DelayBdev> {
    /** SPDK's BDEV_DELAY_NAMESPACE_UUID: a delay bdev without a configured uuid gets uuid5(this, base uuid). */
    private static final UUID NAMESPACE = UUID.fromString("4009b574-6430-4f1b-bc40-ace811091027");

    /** Also the association kept until delete. */
    record CreateParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String baseBdevName,
            @JsonProperty(required = true) Long avgReadLatency, @JsonProperty(required = true) Long p99ReadLatency,
            @JsonProperty(required = true) Long avgWriteLatency, @JsonProperty(required = true) Long p99WriteLatency,
            UUID uuid) implements Association {
        @Override
        public List<String> baseBdevNames() {
            return List.of(baseBdevName);
        }
    }

    record UpdateParams(@JsonProperty(required = true) String delayBdevName,
            @JsonProperty(required = true) String latencyType, @JsonProperty(required = true) Long latencyUs) {
    }

    private DelayModule(BdevLayer layer) {
        super(layer, "delay", "delay", Lifetime.UNTIL_DELETE);
    }

    public static void register(KeelApp app, BdevLayer layer) {
        DelayModule m = addTo(layer);
        app.methods().register("bdev_delay_create", CreateParams.class, (p, call) -> {
            checkLatencies(p);
            m.create(p);
            call.respond(p.name());
        });
        app.methods().register("bdev_delay_update_latency", UpdateParams.class, (p, call) -> {
            m.update(p);
            call.respond(true);
        });
        m.registerDelete(app, "bdev_delay_delete");
    }

    /**
     * Adds the module to {@code layer} without its RPC methods, for a layer outside an application (the simulation),
     * which makes its bdevs with {@link #create(String, String, long, long, long, long)}.
     */
    public static DelayModule addTo(BdevLayer layer) {
        DelayModule m = new DelayModule(layer);
        layer.addModule(m);
        return m;
    }

    /** {@code bdev_delay_create} without the RPC (latencies in microseconds, checked as there). Application thread. */
    public void create(String name, String baseBdevName, long avgReadUs, long p99ReadUs, long avgWriteUs,
            long p99WriteUs) {
        CreateParams p = new CreateParams(name, baseBdevName, avgReadUs, p99ReadUs, avgWriteUs, p99WriteUs, null);
        checkLatencies(p);
        create(p);
    }

    // ---- RPCs ----

    private static void checkLatencies(CreateParams p) {
        nonNegative("avg_read_latency", p.avgReadLatency());
        nonNegative("p99_read_latency", p.p99ReadLatency());
        nonNegative("avg_write_latency", p.avgWriteLatency());
        nonNegative("p99_write_latency", p.p99WriteLatency());
        if (p.p99ReadLatency() < p.avgReadLatency() || p.p99WriteLatency() < p.avgWriteLatency()) {
            throw RpcException.errno(Errno.EINVAL, "Invalid argument"); // SPDK: p99 latency below the average
        }
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
        log.info("delay {}: {} latency now {} us", b.name(), type.wireName(), p.latencyUs());
    }

    private static void nonNegative(String param, long value) {
        if (value < 0) {
            throw RpcException.invalidParams(param + " must not be negative, not " + value);
        }
    }

    // ---- bdevs ----

    @Override
    protected DelayBdev newBdev(CreateParams a, List<BdevDesc> bases) {
        BdevDesc base = bases.getFirst();
        UUID uuid = a.uuid() != null ? a.uuid() : Uuids.uuid5(NAMESPACE, base.bdev().uuid());
        return new DelayBdev(this, a.name(), uuid, base, a.avgReadLatency(), a.p99ReadLatency(), a.avgWriteLatency(),
                a.p99WriteLatency());
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs().stream().map(b -> new ConfigEntry("bdev_delay_create", b.createParams())).toList();
    }
}
