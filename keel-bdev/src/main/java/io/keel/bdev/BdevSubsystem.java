package io.keel.bdev;

import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.app.Subsystem;
import io.keel.core.iobuf.IoBufSubsystem;
import io.keel.core.rpc.Json;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "bdev" subsystem: starts the layer (pool, thread caches, data buffers) at init; at fini removes every
 * bdev, those nobody claims first (the top of each stack), so virtual bdevs go before their bases, then runs each
 * module's fini (within the same bound); saves
 * {@code bdev_set_options}, each module's bdevs, then {@code bdev_wait_for_examine}, as SPDK does.
 */
final class BdevSubsystem implements Subsystem {
    private static final Logger LOG = LoggerFactory.getLogger(BdevSubsystem.class);

    private final KeelApp app;
    private final BdevLayer layer;

    BdevSubsystem(KeelApp app, BdevLayer layer) {
        this.app = app;
        this.layer = layer;
    }

    @Override
    public String name() {
        return "bdev";
    }

    @Override
    public List<String> dependsOn() {
        return IobufLender.DEPENDENCIES;
    }

    @Override
    public void init(Consumer<Throwable> done) {
        try {
            layer.start(app.appThread(), IoBufSubsystem.of(app));
            done.accept(null);
        } catch (RuntimeException e) {
            done.accept(e);
        }
    }

    /** How long shutdown waits for descriptor holders to let go of removed bdevs before it goes on (rule R5). */
    static final long FINI_BOUND_MICROS = 10_000_000;

    @Override
    public void fini(Runnable done) {
        // whichever comes first: every bdev removed, or the bound; the other is then ignored
        boolean[] finished = new boolean[1];
        Runnable once = () -> {
            if (!finished[0]) {
                finished[0] = true;
                done.run();
            }
        };
        KeelThread t = KeelThread.current();
        Poller[] bound = new Poller[1];
        bound[0] = t.registerPoller("bdev_fini_bound", () -> {
            bound[0].unregister();
            if (!finished[0]) {
                LOG.error("shutdown: bdevs still open after {} s, going on without them: {}",
                        FINI_BOUND_MICROS / 1_000_000, layer.bdevs());
                once.run();
            }
            return 1;
        }, FINI_BOUND_MICROS);
        removeTopmost(() -> finiModules(layer.modules(), 0, () -> {
            if (bound[0].state() != Poller.State.UNREGISTERED) {
                bound[0].unregister();
            }
            once.run();
        }));
    }

    /** Each module's fini, last registered first (a module may build on those before it). */
    private void finiModules(List<BdevModule> modules, int done, Runnable then) {
        if (done == modules.size()) {
            then.run();
            return;
        }
        modules.get(modules.size() - 1 - done).fini(() -> finiModules(modules, done + 1, then));
    }

    private void removeTopmost(Runnable done) {
        List<Bdev> unclaimed = layer.bdevs().stream().filter(b -> b.claimedBy() == null).toList();
        if (unclaimed.isEmpty()) {
            if (!layer.bdevs().isEmpty()) {
                LOG.error("bdevs still claimed at shutdown: {}", layer.bdevs());
            }
            done.run();
            return;
        }
        int[] left = {unclaimed.size()};
        for (Bdev b : unclaimed) {
            layer.unregister(b, () -> {
                if (--left[0] == 0) {
                    removeTopmost(done);
                }
            });
        }
    }

    @Override
    public void writeConfig(Consumer<List<ConfigEntry>> done) {
        List<ConfigEntry> out = new ArrayList<>();
        out.add(new ConfigEntry("bdev_set_options", Json.tree(layer.options())));
        for (BdevModule m : layer.modules()) {
            out.addAll(m.optionsConfig());
        }
        for (BdevModule m : layer.modules()) {
            out.addAll(m.config());
        }
        out.add(new ConfigEntry("bdev_wait_for_examine", null));
        done.accept(out);
    }
}
