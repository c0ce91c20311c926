package io.keel.core.app;

import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.rpc.RpcServer;
import io.keel.core.rpc.RpcState;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application (SPDK's {@code spdk_app_start}): reactors, the application thread that owns the RPC server
 * and the lifecycle, and the subsystems. Lifecycle work runs on the application thread as a chain of
 * asynchronous steps; only {@link #awaitExit} blocks, and it runs on the caller's (main) thread.
 */
public final class KeelApp {
    private static final Logger LOG = LoggerFactory.getLogger(KeelApp.class);

    /** Where the application is in its life. */
    public enum State { CREATED, STARTUP, INITIALIZING, RUNNING, STOPPING, STOPPED }

    private final AppOptions options;
    private final RpcMethods methods = new RpcMethods();
    private final Subsystems subsystems = new Subsystems();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final List<Runnable> initWaiters = new ArrayList<>();
    private final java.util.Map<Class<?>, Object> services = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile State state = State.CREATED;
    private volatile ReactorRuntime runtime;
    private volatile KeelThread appThread;
    private RpcServer rpcServer;
    private List<ConfigEntry> pendingRuntimeConfig = List.of();
    private int exitCode;

    private KeelApp(AppOptions options) {
        this.options = options;
    }

    /** An application with keel-core's own methods and subsystems, and every {@link KeelModule} found. */
    public static KeelApp create(AppOptions options) {
        KeelApp app = new KeelApp(options);
        FrameworkRpcs.register(app);
        ThreadRpcs.register(app);
        LogRpcs.register(app.methods);
        SchedulerSubsystem.register(app);
        io.keel.core.iobuf.IoBufSubsystem.register(app);
        for (KeelModule m : ServiceLoader.load(KeelModule.class)) {
            m.register(app);
        }
        return app;
    }

    /** Starts reactors and the application thread; returns at once. Call {@link #awaitExit} to wait for the end. */
    public void start() {
        if (state != State.CREATED) {
            throw new IllegalStateException("already started");
        }
        warmUp();
        methods.state(RpcState.STARTUP);
        state = State.STARTUP;
        runtime = ReactorRuntime.start(options.reactorOptions());
        runtime.onFatal(e -> exited.complete(70));
        appThread = runtime.createThread("app_thread", CpuMask.of(options.cores().first()));
        appThread.send(this::startOnAppThread);
    }

    /**
     * Loads and initialises logging, JSON and the config's RPC parameter readers here, on the launching thread, so that the first log line and
     * the first RPCs do not stall a reactor for the ~100 ms their one-time class initialisation takes.
     */
    private void warmUp() {
        LOG.info("starting {} on cpumask 0x{} ({} mode)", Version.current().version(), options.cores(),
                options.interruptMode() ? "interrupt" : "poll");
        try {
            Json.MAPPER.readTree(Json.write(Version.current()));
            Json.MAPPER.treeToValue(Json.MAPPER.readTree("{\"current\":true}"), FrameworkRpcs.GetMethodsParams.class);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
        if (options.config() != null) {
            try {
                // the config's methods' parameter readers, built here rather than on app_thread's reactor
                ConfigFile.read(options.config()).forEach(c -> methods.prepare(c.method()));
            } catch (RuntimeException e) {
                // app_thread reads the config again and reports what is wrong with it
            }
        }
    }

    private void startOnAppThread() {
        try {
            rpcServer = RpcServer.listen(methods, options.rpcSocket(), options.maxRequestBytes());
        } catch (UncheckedIOException e) {
            LOG.error("{}", e.getMessage());
            stop(1);
            return;
        }
        if (options.config() != null) {
            List<ConfigEntry> entries;
            try {
                entries = ConfigFile.read(options.config());
            } catch (UncheckedIOException | IllegalArgumentException e) {
                LOG.error("cannot load config {}: {}", options.config(), e.getMessage());
                stop(1);
                return;
            }
            List<ConfigEntry> startup = entries.stream().filter(c -> methods.allowedNow(c.method())).toList();
            pendingRuntimeConfig = entries.stream().filter(c -> !methods.allowedNow(c.method())).toList();
            ConfigFile.apply(methods, startup, appThread::send, err -> {
                if (err != null) {
                    LOG.error("config {}: {}", options.config(), err);
                    stop(1);
                } else if (!options.waitForRpc()) {
                    startInit(initErr -> { });
                }
            });
        } else if (!options.waitForRpc()) {
            startInit(err -> { });
        } else {
            LOG.info("waiting for framework_start_init (--wait-for-rpc)");
        }
    }

    /**
     * Initialises every subsystem, then applies the runtime part of the config file, then enters RUNNING
     * ({@code framework_start_init}). App thread only; {@code done} gets null or the error.
     */
    void startInit(Consumer<String> done) {
        if (state != State.STARTUP) {
            done.accept("framework already initialised");
            return;
        }
        state = State.INITIALIZING;
        subsystems.initAll(this::onAppThread, err -> {
            if (err != null) {
                done.accept("subsystem initialisation failed: " + err.getMessage());
                stop(1);
                return;
            }
            methods.state(RpcState.RUNTIME);
            List<ConfigEntry> rest = pendingRuntimeConfig;
            pendingRuntimeConfig = List.of();
            ConfigFile.apply(methods, rest, appThread::send, cfgErr -> {
                if (cfgErr != null) {
                    LOG.error("config {}: {}", options.config(), cfgErr);
                    done.accept(cfgErr);
                    stop(1);
                    return;
                }
                state = State.RUNNING;
                LOG.info("Keel is running: {} reactor(s), {} mode, RPC on {}", options.cores().count(),
                        options.interruptMode() ? "interrupt" : "poll", options.rpcSocket());
                done.accept(null);
                initWaiters.forEach(Runnable::run);
                initWaiters.clear();
            });
        });
    }

    /** Runs {@code r} once the framework is initialised (at once if it is). App thread only. */
    public void whenInitialized(Runnable r) {
        if (state == State.RUNNING) {
            r.run();
        } else {
            initWaiters.add(r);
        }
    }

    /** Starts an orderly shutdown from any thread: subsystems finish in reverse order, then threads exit. */
    public void shutdown() {
        KeelThread t = appThread;
        if (t == null || !t.send(() -> stop(0))) {
            exited.complete(0);
        }
    }

    private void stop(int code) {
        if (state == State.STOPPING || state == State.STOPPED) {
            return;
        }
        LOG.info("shutting down");
        exitCode = code;
        state = State.STOPPING;
        if (rpcServer != null) {
            rpcServer.close();
        }
        subsystems.finiAll(this::onAppThread, this::exitThreads);
    }

    /** Asks every other thread to exit, then the application thread itself. */
    private void exitThreads() {
        List<KeelThread> others = runtime.threads().stream().filter(t -> t != appThread).toList();
        int[] left = {others.size()};
        Runnable afterOthers = () -> appThread.exit(() -> {
            state = State.STOPPED;
            exited.complete(exitCode);
        });
        if (others.isEmpty()) {
            afterOthers.run();
            return;
        }
        for (KeelThread t : others) {
            t.exit(() -> onAppThread(() -> {
                if (--left[0] == 0) {
                    afterOthers.run();
                }
            }));
        }
    }

    /** Waits for the application to stop, stops the reactors and returns the exit code. Not for a reactor. */
    public int awaitExit() throws InterruptedException {
        int code;
        try {
            code = exited.get();
        } catch (java.util.concurrent.ExecutionException e) {
            code = 1;
        }
        runtime.close();
        return code;
    }

    /** As {@link #awaitExit()}, bounded. */
    public int awaitExit(long timeoutMillis) throws InterruptedException, TimeoutException {
        int code;
        try {
            code = exited.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            code = 1;
        }
        runtime.close();
        return code;
    }

    /** Runs {@code r} on the application thread (at once if already there). */
    public void onAppThread(Runnable r) {
        if (KeelThread.current() == appThread) {
            r.run();
        } else {
            appThread.send(r);
        }
    }

    /** Makes a module's service reachable by other modules (e.g. the bdev layer for the NVMe-oF target). */
    public <T> void provide(Class<T> type, T service) {
        if (services.putIfAbsent(type, service) != null) {
            throw new IllegalStateException(type.getSimpleName() + " provided twice");
        }
    }

    /** A service another module provided; throws if none did (a missing module dependency). */
    public <T> T service(Class<T> type) {
        Object s = services.get(type);
        if (s == null) {
            throw new IllegalStateException("no " + type.getSimpleName() + " in this application");
        }
        return type.cast(s);
    }

    public AppOptions options() {
        return options;
    }

    public RpcMethods methods() {
        return methods;
    }

    public Subsystems subsystems() {
        return subsystems;
    }

    public ReactorRuntime runtime() {
        return runtime;
    }

    public KeelThread appThread() {
        return appThread;
    }

    public State state() {
        return state;
    }
}
