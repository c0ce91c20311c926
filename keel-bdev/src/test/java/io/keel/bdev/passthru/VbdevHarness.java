package io.keel.bdev.passthru;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.IoType;
import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What the virtual bdev tests share: a running application (interrupt mode, two cores, a temporary RPC socket),
 * RPCs dispatched in-process on the application thread, and I/O from a lightweight worker thread through
 * descriptors that close themselves when their bdev is removed.
 */
public final class VbdevHarness implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(10);

    public final KeelApp app;
    public final KeelThread worker;
    private final Arena arena = Arena.ofShared();
    private int nextId;

    private VbdevHarness(KeelApp app) {
        this.app = app;
        this.worker = app.runtime().createThread("vbdev_test_io", CpuMask.of(1));
    }

    /**
     * Starts an application (vhost controllers' sockets in {@code dir}); with {@code config}, loaded from that JSON
     * config file as {@code keel start -c}.
     */
    public static VbdevHarness start(Path dir, Path config) {
        AppOptions o = AppOptions.defaults().withCores(CpuMask.of(0, 1)).withInterruptMode(true)
                .withRpcSocket(dir.resolve("keel-" + System.nanoTime() + ".sock")).withVhostSocketDir(dir);
        KeelApp app = KeelApp.create(config == null ? o : o.withConfig(config));
        app.start();
        await().atMost(WAIT).until(() -> app.state() == KeelApp.State.RUNNING);
        return new VbdevHarness(app);
    }

    public static VbdevHarness start(Path dir) {
        return start(dir, null);
    }

    public BdevLayer layer() {
        return BdevLayer.of(app);
    }

    // ---- RPC ----

    /** The whole JSON-RPC response, the request dispatched on the application thread as the RPC server does. */
    public JsonNode call(String method, Object params) {
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("method", method);
        req.put("id", ++nextId);
        if (params != null) {
            req.set("params", Json.tree(params));
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        app.onAppThread(() -> app.methods().dispatch(req, answer::complete));
        try {
            return answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(method + " got no answer", e);
        }
    }

    public JsonNode result(String method, Object params) {
        JsonNode r = call(method, params);
        assertThat(r.has("error")).as(method + " " + params + " answered " + r).isFalse();
        return r.get("result");
    }

    /** The error code of a call that must fail. */
    public int error(String method, Object params) {
        JsonNode r = call(method, params);
        assertThat(r.has("error")).as(method + " " + params + " answered " + r).isTrue();
        return r.get("error").get("code").asInt();
    }

    public void malloc(String name, long numBlocks, int blockSize) {
        assertThat(result("bdev_malloc_create", Map.of("name", name, "num_blocks", numBlocks, "block_size", blockSize))
                .asText()).isEqualTo(name);
    }

    /** bdev_get_bdevs for one bdev, or null if there is none (-19). */
    public JsonNode bdev(String name) {
        JsonNode r = call("bdev_get_bdevs", Map.of("name", name));
        if (r.has("error")) {
            assertThat(r.get("error").get("code").asInt()).isEqualTo(-19);
            return null;
        }
        return r.get("result").get(0);
    }

    /** framework_get_config "bdev": the method of each entry, in order. */
    public List<String> configMethods() {
        List<String> out = new ArrayList<>();
        bdevConfig().forEach(e -> out.add(e.get("method").asText()));
        return out;
    }

    public ArrayNode bdevConfig() {
        return (ArrayNode) result("framework_get_config", Map.of("name", "bdev"));
    }

    /** The params of the first config entry of {@code method}. */
    public JsonNode configParams(String method) {
        for (JsonNode e : bdevConfig()) {
            if (e.get("method").asText().equals(method)) {
                return e.get("params");
            }
        }
        return null;
    }

    /** Writes the "bdev" config as a whole SPDK JSON config file, for a restart from it. */
    public Path saveConfig(Path dir) throws Exception {
        ObjectNode root = Json.object();
        ObjectNode bdev = root.putArray("subsystems").addObject();
        bdev.put("subsystem", "bdev");
        bdev.set("config", bdevConfig());
        Path file = dir.resolve("config-" + System.nanoTime() + ".json");
        Files.writeString(file, Json.pretty(root));
        return file;
    }

    // ---- threads and buffers ----

    /** Runs {@code fn} on the worker thread and returns what it returns. */
    public <T> T onWorker(Supplier<T> fn) {
        CompletableFuture<T> f = new CompletableFuture<>();
        worker.send(() -> {
            try {
                f.complete(fn.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        try {
            return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("worker task failed", e);
        }
    }

    public MemorySegment buffer(long bytes) {
        return arena.allocate(bytes, 4096);
    }

    /** A buffer filled with bytes unique to (seed, position). */
    public MemorySegment pattern(long bytes, int seed) {
        MemorySegment b = buffer(bytes);
        for (long i = 0; i < bytes; i++) {
            b.set(JAVA_BYTE, i, (byte) (i * 31 + seed * 7 + (i >>> 8)));
        }
        return b;
    }

    public MemorySegment copy(MemorySegment src) {
        MemorySegment c = buffer(src.byteSize());
        c.copyFrom(src);
        return c;
    }

    /** Opens {@code name} on the worker thread (read-write unless it is claimed) with a channel there. */
    public Handle open(String name, boolean write) {
        return onWorker(() -> new Handle(name, write));
    }

    public Handle open(String name) {
        return open(name, true);
    }

    /** How one I/O ended: the submit's return code (non-zero: it never started), status, NVMe status, latency. */
    public record IoResult(int rc, BdevIoStatus status, int sct, int sc, long latencyNanos) {
        public boolean ok() {
            return rc == 0 && status == BdevIoStatus.SUCCESS;
        }
    }

    /** A descriptor and the worker's channel to one bdev; on REMOVE it puts its channel and closes. Worker-owned. */
    public final class Handle {
        public final BdevDesc desc;
        private final IoChannel<BdevChannel> ch;
        public volatile boolean removed;
        private boolean closed;

        private Handle(String name, boolean write) {
            desc = layer().open(name, write, this::onEvent);
            ch = desc.getIoChannel();
        }

        private void onEvent(BdevEvent e, io.keel.bdev.Bdev b) {
            if (e == BdevEvent.REMOVE) {
                removed = true;
                closeHere();
            }
        }

        private void closeHere() {
            if (!closed) {
                closed = true;
                ch.put();
                desc.close();
            }
        }

        public void close() {
            onWorker(() -> {
                closeHere();
                return null;
            });
        }

        public BdevChannel channel() {
            return ch.context();
        }

        /** Submits on the worker; the future completes when the I/O does (or at once if the submit is refused). */
        public CompletableFuture<IoResult> submit(IoType type, long offsetBlocks, long numBlocks, MemorySegment buf) {
            CompletableFuture<IoResult> f = new CompletableFuture<>();
            worker.send(() -> {
                long start = worker.runtime().clock().nanoTime();
                BdevIoCallback cb = (io, success, arg) -> {
                    long t = worker.runtime().clock().nanoTime() - start;
                    IoResult r = new IoResult(0, io.status(), io.nvmeSct(), io.nvmeSc(), t);
                    io.free();
                    f.complete(r);
                };
                BdevChannel c = ch.context();
                int rc = switch (type) {
                    case READ -> desc.read(c, buf, offsetBlocks, numBlocks, cb, null);
                    case WRITE -> desc.write(c, buf, offsetBlocks, numBlocks, cb, null);
                    case COMPARE -> desc.compare(c, buf, offsetBlocks, numBlocks, cb, null);
                    case UNMAP -> desc.unmap(c, offsetBlocks, numBlocks, cb, null);
                    case WRITE_ZEROES -> desc.writeZeroes(c, offsetBlocks, numBlocks, cb, null);
                    case FLUSH -> desc.flush(c, offsetBlocks, numBlocks, cb, null);
                    case RESET -> desc.reset(c, cb, null);
                };
                if (rc != 0) {
                    f.complete(new IoResult(rc, null, 0, 0, 0));
                }
            });
            return f;
        }

        public IoResult run(IoType type, long offsetBlocks, long numBlocks, MemorySegment buf) {
            return done(submit(type, offsetBlocks, numBlocks, buf));
        }

        public IoResult write(long offsetBlocks, MemorySegment buf) {
            return run(IoType.WRITE, offsetBlocks, buf.byteSize() / desc.bdev().blockSize(), buf);
        }

        public IoResult read(long offsetBlocks, MemorySegment buf) {
            return run(IoType.READ, offsetBlocks, buf.byteSize() / desc.bdev().blockSize(), buf);
        }

        public IoResult reset() {
            return run(IoType.RESET, 0, 0, null);
        }
    }

    public static IoResult done(CompletableFuture<IoResult> f) {
        try {
            return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("I/O did not complete", e);
        }
    }

    /** Positions where {@code a} and {@code b} differ. */
    public static List<Long> differences(MemorySegment a, MemorySegment b) {
        List<Long> out = new ArrayList<>();
        for (long i = 0; i < a.byteSize(); i++) {
            if (a.get(JAVA_BYTE, i) != b.get(JAVA_BYTE, i)) {
                out.add(i);
            }
        }
        return out;
    }

    /** Shuts the application down (removing every bdev, stacks top first) and checks it exits cleanly. */
    @Override
    public void close() throws Exception {
        app.shutdown();
        assertThat(app.awaitExit(WAIT.toMillis())).as("exit code").isZero();
        arena.close();
    }
}
