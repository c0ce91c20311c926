package io.keel.core.iobuf;

import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.app.Subsystem;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcState;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code iobuf} subsystem (no dependencies): allocates the pools at init with the options set by
 * {@code iobuf_set_options} (allowed only before {@code framework_start_init}, as in SPDK, because the pools
 * are made at init), frees them at fini, and saves one {@code iobuf_set_options} entry with every value.
 * Methods: {@code iobuf_set_options} (STARTUP), {@code iobuf_get_stats} (RUNTIME), and the Keel-only
 * {@code keel_iobuf_get_pools} (RUNTIME: where each pool's buffers are, rule R6).
 *
 * <p>Other modules reach the pools with {@link #of(KeelApp)}, from their own subsystem's init or later (a
 * subsystem that uses iobuf lists {@code "iobuf"} in {@link Subsystem#dependsOn()}, so it is initialised
 * after the pools exist and finished before they are freed).
 */
public final class IoBufSubsystem implements Subsystem {
    private static final Logger LOG = LoggerFactory.getLogger(IoBufSubsystem.class);
    public static final String NAME = "iobuf";

    /** {@code iobuf_set_options} parameters; every one is optional and changes only what it names. */
    record SetOptionsParams(Long smallPoolCount, Long largePoolCount, Long smallBufsize, Long largeBufsize,
            Boolean enableNuma) {
    }

    private volatile IoBufOptions options = IoBufOptions.defaults();
    private volatile IoBuf iobuf;

    private IoBufSubsystem() {
    }

    /** Adds the subsystem and its RPC methods to {@code app} (from {@code KeelApp.create}). */
    public static IoBufSubsystem register(KeelApp app) {
        IoBufSubsystem s = new IoBufSubsystem();
        app.subsystems().add(s);
        app.methods().register("iobuf_set_options", SetOptionsParams.class, (p, call) -> {
            s.setOptions(p);
            call.respond(true);
        }, RpcState.STARTUP);
        app.methods().register("iobuf_get_stats", Void.class,
                (p, call) -> app.onAppThread(() -> s.initialised().getStats(call::respond)));
        app.methods().register("keel_iobuf_get_pools", Void.class,
                (p, call) -> app.onAppThread(() -> s.initialised().getPoolUsage(usage -> call.respond(
                        new PoolsResult(usage.get(0), usage.get(1))))));
        return s;
    }

    record PoolsResult(IoBufPoolUsage smallPool, IoBufPoolUsage largePool) {
    }

    /**
     * The application's pools, for the modules that use them (the bdev layer, the NVMe-oF transports).
     *
     * @throws IllegalStateException if the app has no iobuf subsystem or it is not initialised (not yet, or
     *                               no longer)
     */
    public static IoBuf of(KeelApp app) {
        if (!(app.subsystems().get(NAME) instanceof IoBufSubsystem s)) {
            throw new IllegalStateException("this application has no iobuf subsystem");
        }
        return s.initialised();
    }

    private IoBuf initialised() {
        IoBuf b = iobuf;
        if (b == null) {
            throw new IllegalStateException("iobuf is not initialised: depend on the \"iobuf\" subsystem");
        }
        return b;
    }

    /** The options the pools are (or will be) made with. */
    public IoBufOptions options() {
        return options;
    }

    private void setOptions(SetOptionsParams p) {
        IoBufOptions o = options;
        if (p.smallPoolCount() != null) {
            o = o.withSmallPoolCount(p.smallPoolCount());
        }
        if (p.largePoolCount() != null) {
            o = o.withLargePoolCount(p.largePoolCount());
        }
        if (p.smallBufsize() != null) {
            o = o.withSmallBufsize(p.smallBufsize());
        }
        if (p.largeBufsize() != null) {
            o = o.withLargeBufsize(p.largeBufsize());
        }
        if (p.enableNuma() != null) {
            o = o.withEnableNuma(p.enableNuma());
        }
        try {
            o.validate();
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
        options = o;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Makes the pools on a short-lived helper OS thread, not on the application thread: the first
     * {@link IoBuf#create} in a JVM links the native calls and initialises the memory classes (~0.5 s here),
     * which would stall a reactor (rule R3). {@code done} is completed from that thread.
     */
    @Override
    public void init(Consumer<Throwable> done) {
        IoBufOptions o = options;
        if (o.enableNuma()) {
            LOG.warn("iobuf: enable_numa is accepted but ignored; Keel keeps one pool per buffer size");
        }
        Thread.ofPlatform().name("iobuf_init").daemon().start(() -> {
            IoBuf b;
            try {
                b = IoBuf.create(o);
            } catch (RuntimeException | Error e) {
                done.accept(e);
                return;
            }
            options = b.options(); // buffer sizes rounded to 4096, as SPDK saves them after init
            iobuf = b;
            LOG.debug("iobuf: {}", b);
            done.accept(null);
        });
    }

    @Override
    public void fini(Runnable done) {
        IoBuf b = iobuf;
        if (b == null) {
            done.run();
            return;
        }
        b.finish(() -> {
            iobuf = null;
            done.run();
        });
    }

    @Override
    public void writeConfig(Consumer<List<ConfigEntry>> done) {
        done.accept(List.of(new ConfigEntry("iobuf_set_options", Json.tree(options))));
    }
}
