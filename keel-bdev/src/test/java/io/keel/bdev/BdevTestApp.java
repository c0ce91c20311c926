package io.keel.bdev;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Keel application for tests of the bdev layer and what builds on it (keel-nvmf uses it through keel-bdev's
 * test jar): two interrupt-mode reactors ({@link #startPollMode}: one poll-mode reactor), RPCs called in-process.
 */
public final class BdevTestApp implements AutoCloseable {
    /** A JSON-RPC error answer. */
    public static final class RpcError extends RuntimeException {
        public final int code;

        RpcError(int code, String message) {
            super(code + " " + message);
            this.code = code;
        }
    }

    public final KeelApp app;

    private BdevTestApp(KeelApp app) {
        this.app = app;
    }

    public static BdevTestApp start(Path dir) {
        return start(dir, Map.of());
    }

    /** Starts, applying {@code startupRpcs} (method → params, e.g. bdev_set_options) before initialisation. */
    public static BdevTestApp start(Path dir, Map<String, Object> startupRpcs) {
        return start(AppOptions.defaults().withCores(CpuMask.of(0, 1)).withInterruptMode(true), dir, startupRpcs);
    }

    /** One poll-mode reactor (on core 0, not pinned): for what a reactor does only when it polls continuously. */
    public static BdevTestApp startPollMode(Path dir) {
        return start(AppOptions.defaults().withCores(CpuMask.of(0)).withInterruptMode(false), dir, Map.of());
    }

    private static BdevTestApp start(AppOptions reactors, Path dir, Map<String, Object> startupRpcs) {
        AppOptions o = reactors.withRpcSocket(dir.resolve("keel.sock")).withWaitForRpc(true).withVhostSocketDir(dir);
        BdevTestApp t = new BdevTestApp(KeelApp.create(o));
        t.app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.app.appThread() != null);
        startupRpcs.forEach(t::rpc);
        t.rpc("framework_start_init", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.app.state() == KeelApp.State.RUNNING);
        return t;
    }

    /** RPC parameters from alternating names and values, in order: {@code params("name", "Malloc0", ...)}. */
    public static Map<String, Object> params(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    public BdevLayer layer() {
        return BdevLayer.of(app);
    }

    /** Calls a method in-process without waiting: the future completes with its result or an {@link RpcError}. */
    public CompletableFuture<JsonNode> rpcAsync(String method, Object params) {
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("id", 1);
        req.put("method", method);
        if (params != null) {
            req.set("params", Json.tree(params));
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        app.onAppThread(() -> app.methods().dispatch(req, answer::complete));
        return answer.thenApply(a -> {
            if (a.has("error")) {
                throw new RpcError(a.get("error").get("code").asInt(), a.get("error").get("message").asText());
            }
            return a.get("result");
        });
    }

    /** Calls a method in-process; returns its result or throws {@link RpcError}. */
    public JsonNode rpc(String method, Object params) {
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("id", 1);
        req.put("method", method);
        if (params != null) {
            req.set("params", Json.tree(params));
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        app.onAppThread(() -> app.methods().dispatch(req, answer::complete));
        JsonNode a = answer.orTimeout(20, TimeUnit.SECONDS).join();
        if (a.has("error")) {
            throw new RpcError(a.get("error").get("code").asInt(), a.get("error").get("message").asText());
        }
        return a.get("result");
    }

    public KeelThread thread(String name, int core) {
        return app.runtime().createThread(name, CpuMask.of(core));
    }

    /** Runs {@code c} on {@code t} and waits for its value. */
    public static <T> T on(KeelThread t, Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        t.send(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f.orTimeout(20, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() throws Exception {
        app.shutdown();
        app.awaitExit(20_000);
    }
}
