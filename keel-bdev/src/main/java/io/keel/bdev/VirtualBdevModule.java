package io.keel.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every virtual bdev module does (SPDK's {@code vbdev_passthru}, {@code vbdev_delay}, {@code vbdev_error}
 * share it): a subclass keeps its RPC parameters, its bdev's I/O behaviour and how it saves its config. All of it
 * runs on the application thread (RPCs, examine, base events).
 *
 * <p>Create records an {@link Association} (what it asked for) and builds the bdev at once if its bases exist, else
 * whenever the last of them registers ({@link #examine}). Building opens each base for writing and claims it, so
 * nothing else writes to it, and undoes it all if a step is refused. When a base is removed (REMOVE), the bdev on it
 * unregisters itself ({@link #baseRemoved}); the association stays until delete ({@link Lifetime#UNTIL_DELETE}:
 * the bdev comes back with its base) or goes with the bdev ({@link Lifetime#UNTIL_DESTRUCT}).
 *
 * @param <A> what the module's create asks for
 * @param <B> the module's bdevs
 */
public abstract class VirtualBdevModule<A extends VirtualBdevModule.Association, B extends VirtualBdev>
        implements BdevModule {
    /** What create asked for (kept for {@link Lifetime}): the bdev's name, its bases' names or aliases by slot. */
    public interface Association {
        String name();

        List<String> baseBdevNames();
    }

    /**
     * How long an association is kept: until delete (a base that comes back after a removal brings the bdev back),
     * or until the bdev is destructed, however it went.
     */
    public enum Lifetime { UNTIL_DELETE, UNTIL_DESTRUCT }

    private record DeleteParams(@JsonProperty(required = true) String name) {
    }

    protected final Logger log = LoggerFactory.getLogger(getClass());
    protected final BdevLayer layer;
    private final String name;
    /** How log lines name one of the module's bdevs ("passthru PT0", "error bdev EE_Malloc0"). */
    private final String label;
    private final Lifetime lifetime;
    private final List<A> associations = new CopyOnWriteArrayList<>();
    private final List<B> built = new CopyOnWriteArrayList<>();

    protected VirtualBdevModule(BdevLayer layer, String name, String label, Lifetime lifetime) {
        this.layer = layer;
        this.name = name;
        this.label = label;
        this.lifetime = lifetime;
    }

    @Override
    public final String name() {
        return name;
    }

    /** Makes the bdev {@code association} asks for on its bases (opened and claimed, in slot order); not registered. */
    protected abstract B newBdev(A association, List<BdevDesc> bases);

    // ---- RPCs ----

    /**
     * Records {@code a} and builds its bdev, or defers that until its bases register. Throws the RPC error: -EEXIST
     * "File exists" for a name already asked for, else the layer's refusal (which leaves nothing behind, unlike SPDK,
     * so a retry is not blocked).
     */
    protected final void create(A a) {
        if (associations.stream().anyMatch(other -> other.name().equals(a.name()))) {
            throw RpcException.errno(Errno.EEXIST, "File exists");
        }
        associations.add(a);
        try {
            build(a);
        } catch (RuntimeException e) {
            if (e instanceof BdevException be && be.errno() == -Errno.ENODEV) {
                logDeferred(a);
                return;
            }
            associations.remove(a);
            throw e instanceof BdevException be ? ModuleRpcs.error(be) : e;
        }
    }

    /**
     * Registers {@code method}, the module's delete: an unknown name (or one not the module's) is -ENODEV "No such
     * device"; else the association is forgotten (if kept until delete) and the bdev unregistered.
     */
    protected final void registerDelete(KeelApp app, String method) {
        app.methods().register(method, DeleteParams.class, (p, call) -> delete(p.name(), call));
    }

    private void delete(String bdevName, RpcCall call) {
        ModuleRpcs.delete(layer, this, bdevName, call, b -> {
            if (lifetime == Lifetime.UNTIL_DELETE) {
                associations.removeIf(a -> a.name().equals(bdevName)); // not to be rebuilt when a base comes back
            }
            beforeUnregister(find(bdevName));
        });
    }

    /** Runs before the module unregisters one of its bdevs (delete, base removal): e.g. to end I/O it holds. */
    protected void beforeUnregister(B b) {
    }

    // ---- the module's bdevs ----

    /** The associations kept, in the order they were made. */
    protected final List<A> associations() {
        return List.copyOf(associations);
    }

    /** The bdevs built and not yet destructed (registered or being removed), in the order they were built. */
    protected final List<B> bdevs() {
        return List.copyOf(built);
    }

    /** The bdev of that name built and not yet destructed, or null. */
    protected final B built(String bdevName) {
        return built.stream().filter(b -> b.name().equals(bdevName)).findFirst().orElse(null);
    }

    /** The registered bdev of the module with that name or alias, or null. */
    protected final B find(String nameOrAlias) {
        Bdev registered = layer.get(nameOrAlias);
        return built.stream().filter(b -> b == registered).findFirst().orElse(null);
    }

    /** The bdev is destructed: it is no longer built (and its association goes, if kept until then). Any thread. */
    final void forget(VirtualBdev b) {
        built.remove(b);
        if (lifetime == Lifetime.UNTIL_DESTRUCT) {
            associations.removeIf(a -> a.name().equals(b.name()));
        }
    }

    // ---- building on bases ----

    @Override
    public void examine(Bdev bdev) {
        for (A a : associations) {
            if (isBase(a, bdev) && built(a.name()) == null) {
                try {
                    build(a);
                } catch (BdevException e) {
                    if (e.errno() == -Errno.ENODEV) {
                        logDeferred(a); // another base is still missing
                    } else {
                        log.error("{} {}: cannot build on bdev {}: {}", label, a.name(), bdev.name(), e.getMessage());
                    }
                }
            }
        }
    }

    private void build(A a) {
        List<BdevDesc> bases = new ArrayList<>();
        try {
            for (String baseName : a.baseBdevNames()) {
                bases.add(openAndClaim(baseName));
            }
            B b = newBdev(a, bases);
            layer.register(b);
            built.add(b);
            log.info("{} {} created on bdev {}", label, a.name(),
                    bases.stream().map(d -> d.bdev().name()).collect(Collectors.joining(", ")));
        } catch (RuntimeException e) {
            bases.forEach(BdevDesc::close);
            throw e;
        }
    }

    /**
     * Opens the bdev {@code baseName} for writing on this thread, with this module's base event handler, and claims
     * it; closes it again if the claim is refused. Throws the layer's refusal (-ENODEV, -EPERM).
     */
    protected final BdevDesc openAndClaim(String baseName) {
        BdevDesc base = layer.open(baseName, true, this::onBaseEvent);
        try {
            layer.claim(base, this);
            return base;
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /**
     * An event on a base opened by {@link #openAndClaim}: here a REMOVE goes to {@link #baseRemoved} for each bdev
     * built on it. A module that keeps bases outside built bdevs (a RAID still assembling) handles it itself.
     */
    protected void onBaseEvent(BdevEvent event, Bdev base) {
        if (event != BdevEvent.REMOVE) {
            log.info("{}: ignoring {} of bdev {}", name, event, base.name());
            return;
        }
        for (B b : built) {
            int slot = b.slotOf(base);
            if (slot >= 0) {
                baseRemoved(b, slot);
            }
        }
    }

    /**
     * The base in {@code slot} of {@code b} is being removed: here {@code b} unregisters itself (and closes the base
     * once its channels are gone). A module whose bdev outlives a base (a RAID) empties the slot instead.
     */
    protected void baseRemoved(B b, int slot) {
        log.info("{} {}: base bdev {} is being removed", label, b.name(), b.base(slot).bdev().name());
        beforeUnregister(b);
        layer.unregister(b, () -> { });
    }

    private static boolean isBase(Association a, Bdev bdev) {
        return a.baseBdevNames().stream().anyMatch(n -> n.equals(bdev.name()) || bdev.aliases().contains(n));
    }

    private void logDeferred(A a) {
        String bases = String.join(", ", a.baseBdevNames());
        log.info("{} {}: creation deferred until bdev {} arrives", label, a.name(), bases);
    }
}
