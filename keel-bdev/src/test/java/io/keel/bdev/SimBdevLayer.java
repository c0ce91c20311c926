package io.keel.bdev;

import io.keel.bdev.malloc.MallocModule;
import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufOptions;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The bdev layer under the deterministic simulation (rule R9), for scenario tests here and in the modules built on
 * the layer (through keel-bdev's test jar): a simulated application thread, a layer started on it with small pools
 * (so that a few threads with a few I/Os each run them dry), the malloc module, and helpers that run code on a
 * simulated thread and step the simulation until it has run. Nothing runs between helper calls: each steps the
 * simulation on the calling OS thread, and everything else that is runnable interleaves with it as the seed says.
 *
 * <pre>{@code
 * SimBdevLayer s = SimBdevLayer.start(SimulationRuntime.create(seed, CpuMask.of(0, 1, 2)));
 * Bdev b = s.malloc("M0", 512, 1024);
 * KeelThread w = s.thread("w0", 1);
 * ... s.run(w, () -> ...open, submit...); s.runUntil(() -> ...);
 * s.close(); // removes what is left, frees the iobuf pools, checks every pooled object came back
 * }</pre>
 */
public final class SimBdevLayer {
    /** 32 bdev_ios, 4 cached per thread; iobuf's caches 4 small and 1 large buffer per thread. */
    public static final BdevOptions OPTIONS = new BdevOptions(32, 4, true, 4, 1);
    /** 32 small (4 KiB) and 4 large (64 KiB) data buffers. */
    public static final IoBufOptions IOBUF_OPTIONS = new IoBufOptions(32, 4, 4096, 65536, false);
    /** How many steps a helper takes at most before it fails, naming the seed. */
    public static final long MAX_STEPS = 1_000_000;

    public final SimulationRuntime sim;
    /** Where the layer examines new bdevs, and where {@link #malloc(String, int, long)} and {@link #close} work. */
    public final KeelThread appThread;
    public final BdevLayer layer;
    public final IoBuf iobuf;
    public final MallocModule mallocModule;

    private SimBdevLayer(SimulationRuntime sim, BdevOptions options, IoBufOptions iobufOptions) {
        this.sim = sim;
        this.appThread = sim.createThread("app_thread", CpuMask.of(sim.cores().first()));
        this.iobuf = IoBuf.create(iobufOptions);
        this.layer = new BdevLayer();
        layer.options(options);
        layer.start(appThread, iobuf);
        this.mallocModule = MallocModule.addTo(layer);
    }

    /** A layer with the small pools of {@link #OPTIONS} and {@link #IOBUF_OPTIONS}. */
    public static SimBdevLayer start(SimulationRuntime sim) {
        return start(sim, OPTIONS, IOBUF_OPTIONS);
    }

    /** A layer with other pools: {@code options} may give only what differs from {@link #OPTIONS} (the rest null). */
    public static SimBdevLayer start(SimulationRuntime sim, BdevOptions options, IoBufOptions iobufOptions) {
        BdevOptions o = OPTIONS.with(options);
        if (o.problem() != null) {
            throw new IllegalArgumentException(o.problem());
        }
        return new SimBdevLayer(sim, o, iobufOptions);
    }

    /** A simulated lightweight thread on {@code core} (a core of the simulation's mask). */
    public KeelThread thread(String name, int core) {
        return sim.createThread(name, CpuMask.of(core));
    }

    /** Runs {@code fn} on {@code t} and steps the simulation until it has run; returns its value. */
    public <T> T call(KeelThread t, Supplier<T> fn) {
        Object[] result = new Object[1];
        boolean[] ran = {false};
        t.send(() -> {
            result[0] = fn.get();
            ran[0] = true;
        });
        runUntil(() -> ran[0]);
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    /** Runs {@code r} on {@code t} and steps the simulation until it has run. */
    public void run(KeelThread t, Runnable r) {
        call(t, () -> {
            r.run();
            return null;
        });
    }

    /** Steps until {@code done} holds; fails, naming the seed, after {@link #MAX_STEPS} or if all goes quiet first. */
    public void runUntil(BooleanSupplier done) {
        sim.runUntil(done, MAX_STEPS);
    }

    /** Makes and registers a malloc bdev on the application thread. */
    public Bdev malloc(String name, int blockSize, long numBlocks) {
        return call(appThread, () -> mallocModule.create(name, blockSize, numBlocks));
    }

    /**
     * Ends the layer as an application's shutdown does: removes every bdev still registered (a stack goes from the
     * top down, as each base's removal tells its claimant), then frees the iobuf pools once every thread has let go
     * of its channels. Fails if a removal fails, or if a bdev_io or a data buffer has not come back to its pool.
     * Threads must have closed their descriptors and put their channels.
     */
    public void close() {
        int[] left = {-1};
        int[] failure = {0};
        run(appThread, () -> {
            List<Bdev> all = layer.bdevs();
            left[0] = all.size();
            all.forEach(b -> layer.unregister(b, rc -> {
                failure[0] = rc != 0 ? rc : failure[0];
                left[0]--;
            }));
        });
        runUntil(() -> left[0] == 0);
        if (failure[0] != 0) {
            throw new IllegalStateException("a bdev was not removed: " + failure[0] + " (see the log)");
        }
        boolean[] finished = {false};
        run(appThread, () -> iobuf.finish(() -> finished[0] = true));
        runUntil(() -> finished[0]);
        if (layer.poolAvailable() != layer.poolSize()) {
            throw new IllegalStateException("bdev_io pool has " + layer.poolAvailable() + " of " + layer.poolSize());
        }
        if (iobuf.smallPoolAvailable() != iobuf.options().smallPoolCount()
                || iobuf.largePoolAvailable() != iobuf.options().largePoolCount()) {
            throw new IllegalStateException("iobuf pools not whole: " + iobuf.smallPoolAvailable() + " small, "
                    + iobuf.largePoolAvailable() + " large left of " + iobuf.options());
        }
    }
}
