package io.keel.nvmf.io;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevLayer;
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

/** A Keel application for NVMe-oF tests (a copy of io.keel.nvmf.NvmfTestApp, which is package private): two interrupt-mode reactors, RPCs called in-process. */
final class IoTestApp implements AutoCloseable {
    /** A JSON-RPC error answer. */
    static final class RpcError extends RuntimeException {
        final int code;

        RpcError(int code, String message) {
            super(code + " " + message);
            this.code = code;
        }
    }

    final KeelApp app;

    private IoTestApp(KeelApp app) {
        this.app = app;
    }

    static IoTestApp start(Path dir) {
        return start(dir, Map.of());
    }

    /** Starts, applying {@code startupRpcs} (method → params, e.g. bdev_set_options) before initialisation. */
    static IoTestApp start(Path dir, Map<String, Object> startupRpcs) {
        AppOptions o = AppOptions.defaults().withCores(CpuMask.of(0, 1)).withInterruptMode(true)
                .withRpcSocket(dir.resolve("keel.sock")).withWaitForRpc(true);
        IoTestApp t = new IoTestApp(KeelApp.create(o));
        t.app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.app.appThread() != null);
        startupRpcs.forEach(t::rpc);
        t.rpc("framework_start_init", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.app.state() == KeelApp.State.RUNNING);
        return t;
    }

    BdevLayer layer() {
        return BdevLayer.of(app);
    }

    /** Calls a method in-process; returns its result or throws {@link RpcError}. */
    JsonNode rpc(String method, Object params) {
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

    KeelThread thread(String name, int core) {
        return app.runtime().createThread(name, CpuMask.of(core));
    }

    /** Runs {@code c} on {@code t} and waits for its value. */
    static <T> T on(KeelThread t, Callable<T> c) {
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
