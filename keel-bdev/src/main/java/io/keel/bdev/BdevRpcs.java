package io.keel.bdev;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.rpc.RpcState;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import java.util.ArrayList;
import java.util.List;

/** The layer's own methods: bdev_get_bdevs, bdev_get_iostat, bdev_set_options, bdev_wait_for_examine. */
final class BdevRpcs {
    record GetBdevsParams(String name, Long timeout) {
    }

    record IostatParams(List<String> names, Boolean perChannel, String resetMode) {
    }

    private BdevRpcs() {
    }

    static void register(KeelApp app, BdevLayer layer) {
        RpcMethods m = app.methods();
        m.register("bdev_get_bdevs", GetBdevsParams.class, (p, call) -> getBdevs(layer, p, call));
        m.register("bdev_get_iostat", IostatParams.class, (p, call) -> iostat(app, layer, p, call));
        m.register("bdev_set_options", BdevOptions.class, (p, call) -> {
            BdevOptions next = layer.options().with(p);
            String problem = next.problem();
            if (problem != null) {
                throw RpcException.invalidParams(problem);
            }
            layer.options(next);
            call.respond(true);
        }, RpcState.STARTUP);
        m.register("bdev_wait_for_examine", Void.class, (p, call) -> layer.whenExamined(() -> call.respond(true)));
        m.register("keel_bdev_get_io_pool", Void.class, (p, call) -> ioPool(layer, call));
    }

    private static void getBdevs(BdevLayer layer, GetBdevsParams p, RpcCall call) {
        if (p.name() == null) {
            ArrayNode all = Json.MAPPER.createArrayNode();
            layer.bdevs().forEach(b -> all.add(b.describe()));
            call.respond(all);
            return;
        }
        Bdev b = layer.get(p.name());
        long timeoutMs = p.timeout() == null ? 0 : p.timeout();
        if (b != null || timeoutMs == 0) {
            respondOne(b, p.name(), call);
            return;
        }
        // wait (bounded) for the bdev to appear, checking every millisecond on this thread
        KeelThread t = KeelThread.current();
        long deadline = t.runtime().clock().nanoTime() + timeoutMs * 1_000_000;
        Poller[] poller = new Poller[1];
        poller[0] = t.registerPoller("bdev_get_bdevs_wait", () -> {
            Bdev found = layer.get(p.name());
            if (found != null || t.runtime().clock().nanoTime() >= deadline) {
                poller[0].unregister();
                respondOne(found, p.name(), call);
                return 1;
            }
            return 0;
        }, 1000);
    }

    /**
     * Keel's own view of the bdev_io pool (rule R6: every pool and queue depth visible): the pool's size and
     * free count, and per thread its cache, the callers waiting for an io now and how often any had to wait.
     */
    private static void ioPool(BdevLayer layer, RpcCall call) {
        ObjectNode out = Json.object();
        out.put("bdev_io_pool_size", layer.poolSize());
        ArrayNode threads = out.putArray("threads");
        layer.threadCaches().forEachChannel((it, ch) -> {
            BdevThreadCache c = ch.context();
            ObjectNode t = threads.addObject();
            t.put("thread", ch.thread().name());
            t.put("cached", c.cached());
            t.put("waiting", c.waiting());
            t.put("waits_total", c.waitsTotal());
            it.next(0);
        }, status -> {
            out.put("bdev_io_pool_available", layer.poolAvailable());
            out.put("bdev_io_waits_total", layer.poolWaits());
            out.put("bdev_io_child_overflows_total", layer.poolOverflows());
            call.respond(out);
        });
    }

    /**
     * Moves what destroyed channels left into the bdev's retired totals (application thread); those of channels
     * not {@code seen} in this pass are also added to {@code sum}.
     */
    private static void foldRetired(Bdev b, java.util.Set<BdevChannel> seen, IoStats sum) {
        Bdev.RetiredChannel r;
        while ((r = b.retiring.poll()) != null) {
            b.retiredStats.add(r.stats());
            if (sum != null && !seen.contains(r.channel())) {
                sum.add(r.stats());
            }
        }
    }

    private static void respondOne(Bdev b, String name, RpcCall call) {
        if (b == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        ArrayNode one = Json.MAPPER.createArrayNode();
        one.add(b.describe());
        call.respond(one);
    }

    private static void iostat(KeelApp app, BdevLayer layer, IostatParams p, RpcCall call) {
        String reset = p.resetMode() == null ? "none" : p.resetMode();
        if (!List.of("all", "maxmin", "error", "none").contains(reset)) {
            throw RpcException.invalidParams("reset_mode must be all, maxmin, error or none");
        }
        List<Bdev> chosen = new ArrayList<>();
        if (p.names() == null || p.names().isEmpty()) {
            chosen.addAll(layer.bdevs());
        } else {
            for (String n : p.names()) {
                Bdev b = layer.get(n);
                if (b == null) {
                    call.fail(-Errno.ENODEV, "No such device");
                    return;
                }
                chosen.add(b);
            }
        }
        ObjectNode out = Json.object();
        out.put("tick_rate", app.runtime().clock().tickRate());
        out.put("ticks", app.runtime().clock().nanoTime());
        ArrayNode list = out.putArray("bdevs");
        gather(chosen, 0, Boolean.TRUE.equals(p.perChannel()), reset, list, () -> call.respond(out));
    }

    /** Sums each bdev's channels on their own threads (one after the other), then the next bdev. */
    private static void gather(List<Bdev> bdevs, int i, boolean perChannel, String reset, ArrayNode list, Runnable done) {
        if (i == bdevs.size()) {
            done.run();
            return;
        }
        Bdev b = bdevs.get(i);
        foldRetired(b, null, null);
        IoStats sum = b.retiredStats.copy();
        java.util.Set<BdevChannel> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        ObjectNode entry = list.addObject();
        entry.put("name", b.name());
        ArrayNode channels = perChannel ? Json.MAPPER.createArrayNode() : null;
        KeelThread caller = KeelThread.current();
        b.channelDevice().forEachChannel((it, ch) -> {
            BdevChannel c = ch.context();
            if (channels != null) {
                ObjectNode one = channels.addObject();
                one.put("thread_id", c.thread().id());
                c.stats().writeTo(one);
            }
            sum.add(c.stats());
            seen.add(c);
            c.stats().reset(reset);
            it.next(0);
        }, status -> {
            foldRetired(b, seen, sum); // channels gone during the pass: counted once, whether visited or not
            b.retiredStats.reset(reset);
            if (channels != null) {
                entry.set("channels", channels);
            } else {
                sum.writeTo(entry);
            }
            caller.send(() -> gather(bdevs, i + 1, perChannel, reset, list, done));
        });
    }
}
