package io.keel.core.rpc;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A real RPC server for a test: interrupt-mode reactors on the given cores (so an idle test costs no CPU), a
 * lightweight thread "rpc" on core 0 that owns the server, and the socket at {@code socket}. Closing it closes
 * the server on its own thread, then the reactors.
 */
final class RpcTestServer implements AutoCloseable {
    final ReactorRuntime runtime;
    final KeelThread thread;
    final RpcMethods methods;
    final Path socket;
    private final RpcServer server;

    private RpcTestServer(ReactorRuntime runtime, KeelThread thread, RpcMethods methods, Path socket, RpcServer server) {
        this.runtime = runtime;
        this.thread = thread;
        this.methods = methods;
        this.socket = socket;
        this.server = server;
    }

    static RpcTestServer start(RpcMethods methods, Path socket) {
        return start(methods, socket, RpcServer.DEFAULT_MAX_REQUEST_BYTES, CpuMask.of(0));
    }

    static RpcTestServer start(RpcMethods methods, Path socket, long maxRequestBytes, CpuMask cores) {
        ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(cores, true));
        try {
            KeelThread t = rt.createThread("rpc", CpuMask.of(0));
            RpcServer s = on(t, () -> RpcServer.listen(methods, socket, maxRequestBytes));
            return new RpcTestServer(rt, t, methods, socket, s);
        } catch (RuntimeException | Error e) {
            rt.close();
            throw e;
        }
    }

    UnixRpcClient connect() {
        return UnixRpcClient.connect(socket);
    }

    /** Runs {@code fn} with the server, on its thread. */
    <T> T onServer(java.util.function.Function<RpcServer, T> fn) {
        return on(thread, () -> fn.apply(server));
    }

    /** Open client connections, as the server thread counts them. */
    int connectionCount() {
        return on(thread, server::connectionCount);
    }

    /** Runs {@code fn} on lightweight thread {@code t} and waits (bounded) for its result or exception. */
    static <T> T on(KeelThread t, Supplier<T> fn) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (!t.send(() -> {
            try {
                result.complete(fn.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        })) {
            throw new IllegalStateException("thread " + t.name() + " has exited");
        }
        try {
            return result.get(UnixRpcClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new AssertionError(e.getCause());
        } catch (Exception e) {
            throw new AssertionError("no result from thread " + t.name(), e);
        }
    }

    @Override
    public void close() {
        try {
            on(thread, () -> {
                server.close();
                return null;
            });
        } finally {
            runtime.close();
        }
    }
}
