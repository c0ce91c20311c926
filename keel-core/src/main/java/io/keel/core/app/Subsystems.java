package io.keel.core.app;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registered subsystems, initialised in dependency order and finished in the reverse. */
public final class Subsystems {
    private static final Logger LOG = LoggerFactory.getLogger(Subsystems.class);

    private final Map<String, Subsystem> registered = new LinkedHashMap<>();

    public void add(Subsystem s) {
        if (registered.putIfAbsent(s.name(), s) != null) {
            throw new IllegalStateException("subsystem " + s.name() + " registered twice");
        }
    }

    public Subsystem get(String name) {
        return registered.get(name);
    }

    /** Every subsystem, dependencies before dependents (registration order breaks ties). */
    public List<Subsystem> ordered() {
        Set<String> done = new LinkedHashSet<>();
        for (String name : registered.keySet()) {
            visit(name, done, new LinkedHashSet<>());
        }
        List<Subsystem> out = new ArrayList<>();
        done.forEach(n -> out.add(registered.get(n)));
        return out;
    }

    private void visit(String name, Set<String> done, Set<String> path) {
        if (done.contains(name)) {
            return;
        }
        Subsystem s = registered.get(name);
        if (s == null) {
            throw new IllegalStateException("unknown subsystem dependency '" + name + "'");
        }
        if (!path.add(name)) {
            throw new IllegalStateException("subsystem dependency cycle through " + path);
        }
        for (String dep : s.dependsOn()) {
            visit(dep, done, path);
        }
        done.add(name);
    }

    /** Initialises each subsystem in turn, each after the previous completed; {@code done} gets the first error. */
    void initAll(Consumer<Runnable> onAppThread, Consumer<Throwable> done) {
        initFrom(ordered(), 0, onAppThread, done);
    }

    private void initFrom(List<Subsystem> list, int i, Consumer<Runnable> onAppThread, Consumer<Throwable> done) {
        if (i == list.size()) {
            done.accept(null);
            return;
        }
        Subsystem s = list.get(i);
        LOG.debug("initialising subsystem {}", s.name());
        s.init(err -> onAppThread.accept(() -> {
            if (err != null) {
                LOG.error("subsystem {} failed to initialise", s.name(), err);
                done.accept(err);
            } else {
                initFrom(list, i + 1, onAppThread, done);
            }
        }));
    }

    /** Finishes each subsystem in reverse dependency order, each after the previous completed. */
    void finiAll(Consumer<Runnable> onAppThread, Runnable done) {
        List<Subsystem> list = new ArrayList<>(ordered());
        java.util.Collections.reverse(list);
        finiFrom(list, 0, onAppThread, done);
    }

    private void finiFrom(List<Subsystem> list, int i, Consumer<Runnable> onAppThread, Runnable done) {
        if (i == list.size()) {
            done.run();
            return;
        }
        Subsystem s = list.get(i);
        LOG.debug("finishing subsystem {}", s.name());
        try {
            s.fini(() -> onAppThread.accept(() -> finiFrom(list, i + 1, onAppThread, done)));
        } catch (RuntimeException e) {
            LOG.error("subsystem {} failed to finish; going on", s.name(), e);
            finiFrom(list, i + 1, onAppThread, done);
        }
    }
}
