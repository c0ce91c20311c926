package io.keel.bdev;

import io.keel.core.app.KeelApp;
import io.keel.core.iobuf.IoBuf;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bdev layer of one application (SPDK's {@code g_bdev_mgr}): the registry of bdevs by name and alias,
 * the modules, the bdev_io pool, descriptors and claims, and hot-remove. Registration and removal may be
 * started from any lightweight thread; removal completes asynchronously (rule R4).
 *
 * <p>The layer needs no application: it is made empty (modules are added to it), then {@link #start started} with
 * its application thread (where new bdevs are examined) and the iobuf pools it lends from. In a Keel application
 * the bdev subsystem starts it; under the simulation a test does (keel-bdev's test jar: {@code SimBdevLayer}).
 * Everything else it does runs on the lightweight threads of whichever runtime runs those.
 */
public final class BdevLayer {
    private static final Logger LOG = LoggerFactory.getLogger(BdevLayer.class);
    /** How long an {@link #unregister} caller waits for the removal (descriptors, channels, destruct) to end. */
    public static final long REMOVAL_TIMEOUT_NANOS = 15_000_000_000L;

    private final Map<String, Bdev> byName = new ConcurrentHashMap<>();
    private final List<Bdev> bdevs = new CopyOnWriteArrayList<>();
    private final List<BdevModule> modules = new CopyOnWriteArrayList<>();
    /** Examines that went on after their module's {@link BdevModule#examine} returned; app thread. */
    private int examinesInFlight;
    private final List<Runnable> examineWaiters = new ArrayList<>();
    private final Map<Bdev, List<RemovalWaiter>> removalWaiters = new ConcurrentHashMap<>();
    private volatile BdevOptions options = BdevOptions.DEFAULTS;
    private volatile BdevIoPool pool;
    private volatile IoDevice<BdevThreadCache> threadCaches;
    private volatile BufferLender buffers = BufferLender.NONE;
    private volatile long removalTimeoutNanos = REMOVAL_TIMEOUT_NANOS;
    private volatile KeelThread appThread;

    /** The layer of an application ({@code BdevKeelModule} provides it). */
    public static BdevLayer of(KeelApp app) {
        return app.service(BdevLayer.class);
    }

    static BdevLayer of(Bdev bdev) {
        return bdev.layer;
    }

    // ---- lifecycle (bdev subsystem) ----

    /**
     * Allocates the bdev_io pool with the current options; from now on bdevs may register, each examined on
     * {@code appThread}, and reads without a buffer borrow one from {@code iobuf}.
     */
    void start(KeelThread appThread, IoBuf iobuf) {
        this.appThread = appThread; // before the pool: register() reads the pool, then the thread
        BdevOptions o = options;
        BdevIoPool p = new BdevIoPool(o.bdevIoPoolSize());
        threadCaches = IoDevice.register("bdev_mgr", t -> new BdevThreadCache(p, o.bdevIoCacheSize(), t, iobuf, o),
                BdevThreadCache::destroy);
        buffers = new IobufLender(iobuf);
        pool = p;
    }

    public BdevOptions options() {
        return options;
    }

    void options(BdevOptions o) {
        options = o;
    }

    /** Shortens the removal bound (tests). */
    void removalTimeoutNanos(long nanos) {
        removalTimeoutNanos = nanos;
    }

    IoDevice<BdevThreadCache> threadCaches() {
        return threadCaches;
    }

    /** bdev_io objects in the global pool now (not counting thread caches). */
    public int poolAvailable() {
        return pool.available();
    }

    /** How many times any caller found the bdev_io pool dry and waited. */
    public long poolWaits() {
        return pool.waits();
    }

    /** bdev_ios made beyond the bound for child I/O under exhaustion (see BdevIoPool.makeOverflow). */
    public long poolOverflows() {
        return pool.overflowMade();
    }

    public int poolSize() {
        return pool.size();
    }

    // ---- modules ----

    public void addModule(BdevModule m) {
        modules.add(m);
    }

    public List<BdevModule> modules() {
        return List.copyOf(modules);
    }

    // ---- registry ----

    /** Registers a bdev made by a module; fails with -EEXIST if its name or an alias is taken. */
    public void register(Bdev b) {
        if (pool == null) {
            throw new BdevException(Errno.EINVAL, "the bdev layer is not initialised");
        }
        List<String> names = new ArrayList<>();
        names.add(b.name());
        names.addAll(b.aliases());
        List<String> taken = new ArrayList<>();
        for (String n : names) {
            if (byName.putIfAbsent(n, b) != null) {
                taken.add(n);
            } else if (!taken.isEmpty()) {
                break;
            }
        }
        if (!taken.isEmpty()) {
            names.forEach(n -> byName.remove(n, b));
            throw new BdevException(Errno.EEXIST, "bdev name " + taken.getFirst() + " already exists");
        }
        b.layer = this;
        b.state = Bdev.State.REGISTERED;
        bdevs.add(b);
        LOG.info("bdev {} registered: {} blocks of {} bytes ({})", b.name(), b.numBlocks(), b.blockSize(), b.module().name());
        if (KeelThread.current() == appThread) {
            examine(b);
        } else {
            appThread.send(() -> examine(b));
        }
    }

    /**
     * Offers a new bdev to every module (SPDK's {@code examine_config}), on the application thread: inline when
     * registered there (as SPDK does inside {@code spdk_bdev_register}), else one message later. A virtual bdev
     * module builds what it was configured to build on top of it.
     */
    /**
     * A module's examine of a bdev goes on after {@link BdevModule#examine} returned (it reads the bdev, say: SPDK's
     * {@code examine_disk}); {@code bdev_wait_for_examine} waits until the module calls {@link #examineDone}.
     * App thread.
     */
    public void examineStarted() {
        examinesInFlight++;
    }

    /** An examine announced by {@link #examineStarted} is over. App thread. */
    public void examineDone() {
        if (--examinesInFlight == 0) {
            List<Runnable> ready = List.copyOf(examineWaiters);
            examineWaiters.clear();
            ready.forEach(Runnable::run);
        }
    }

    /** Runs {@code r} once no examine is going on (at once if none is). App thread. */
    void whenExamined(Runnable r) {
        if (examinesInFlight == 0) {
            r.run();
        } else {
            examineWaiters.add(r);
        }
    }

    private void examine(Bdev b) {
        for (BdevModule m : modules) {
            if (b.state != Bdev.State.REGISTERED) {
                return; // removed meanwhile (or claimed and removed by an earlier module's examine)
            }
            try {
                m.examine(b);
            } catch (RuntimeException e) {
                LOG.error("bdev {}: module {} failed to examine it", b.name(), m.name(), e);
            }
        }
    }

    /** The bdev with this name or alias, or null. */
    public Bdev get(String nameOrAlias) {
        return byName.get(nameOrAlias);
    }

    /** Registered bdevs, in registration order. */
    public List<Bdev> bdevs() {
        return List.copyOf(bdevs);
    }

    /**
     * Removes a bdev (hot-remove): it leaves the registry at once, every open descriptor is told REMOVE on its
     * thread, and once the last descriptor has closed and the last channel is gone, the module destructs it
     * and {@code done} runs on the calling thread. Calling it again while removal runs waits for the same end;
     * after the end, {@code done} runs at once. {@code done} also runs if the removal has not ended within
     * {@link #REMOVAL_TIMEOUT_NANOS} (see {@link #unregister(Bdev, IntConsumer)}).
     */
    public void unregister(Bdev b, Runnable done) {
        unregister(b, rc -> done.run());
    }

    /**
     * As {@link #unregister(Bdev, Runnable)}, with an outcome: {@code done} runs on the calling thread exactly
     * once, with 0 when the bdev is gone, or with a negative errno after an error log that says what the removal
     * still waits for (descriptors open on which threads, channels held by which threads, or the module's
     * destruct): -ETIMEDOUT at {@link #REMOVAL_TIMEOUT_NANOS}, or the io_device's error when its channels can
     * never be released. A removal that fails leaves the bdev REMOVING and its resources allocated (never freed
     * under a holder); it still ends if the holders let go later.
     */
    public void unregister(Bdev b, IntConsumer done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("unregister must be called from a lightweight thread");
        }
        RemovalWaiter waiter = new RemovalWaiter(this, b, caller, done);
        boolean[] first = new boolean[1];
        boolean[] over = new boolean[1];
        removalWaiters.compute(b, (k, waiters) -> { // atomic per bdev: concurrent removals agree on who starts it
            if (b.state == Bdev.State.REMOVED) {
                over[0] = true;
                return waiters;
            }
            List<RemovalWaiter> w = waiters == null ? new ArrayList<>() : waiters;
            w.add(waiter);
            if (b.state != Bdev.State.REMOVING) {
                b.state = Bdev.State.REMOVING;
                first[0] = true;
            }
            return w;
        });
        if (over[0]) {
            waiter.finish(0);
            return;
        }
        waiter.startBound();
        if (!first[0]) {
            return;
        }
        bdevs.remove(b);
        byName.values().removeIf(x -> x == b);
        LOG.info("bdev {}: removing ({} open descriptor(s))", b.name(), b.descs().size());
        if (b.descs().isEmpty()) {
            finishRemovalOnce(b);
        } else {
            b.descs().forEach(d -> d.notify(BdevEvent.REMOVE));
        }
    }

    /**
     * Finishes a removal once its last descriptor is gone. The last close (on any thread) and the removal itself
     * (on the app thread) may both see no descriptor left at the same instant; exactly one of them goes on.
     */
    private void finishRemovalOnce(Bdev b) {
        if (b.takeRemovalFinish()) {
            finishRemoval(b);
        }
    }

    private void finishRemoval(Bdev b) {
        KeelThread t = KeelThread.current();
        KeelThread owner = appThread;
        if (owner != null && t != owner && owner.send(() -> finishRemoval(b))) {
            // the last descriptor closed on another thread, which may exit before the removal ends (a bdevperf job
            // closes its descriptor and leaves): the rest runs on the application thread, which stays
            return;
        }
        b.channelDevice().unregister(rc -> {
            if (rc != 0) {
                LOG.error("bdev {}: not destructed, its channels are still held (see above)", b.name());
                failWaiters(b, rc);
                return;
            }
            b.runDestruct(() -> t.send(() -> {
                List<List<RemovalWaiter>> taken = new ArrayList<>(1);
                removalWaiters.compute(b, (k, waiters) -> {
                    b.state = Bdev.State.REMOVED;
                    taken.add(waiters);
                    return null;
                });
                LOG.info("bdev {} removed", b.name());
                if (taken.getFirst() != null) {
                    taken.getFirst().forEach(w -> w.finish(0));
                }
            }));
        });
    }

    private void failWaiters(Bdev b, int rc) {
        List<List<RemovalWaiter>> taken = new ArrayList<>(1);
        removalWaiters.compute(b, (k, waiters) -> {
            taken.add(waiters);
            return null; // a removal that ends later finds nobody waiting, or the callers that came after
        });
        if (taken.getFirst() != null) {
            taken.getFirst().forEach(w -> w.finish(rc));
        }
    }

    /** Called by a waiter's bound: drops it from the waiters (unless the removal just ended) and fails it. */
    private void removalTimedOut(RemovalWaiter w) {
        Bdev b = w.bdev;
        boolean[] mine = new boolean[1];
        removalWaiters.computeIfPresent(b, (k, waiters) -> {
            mine[0] = waiters.remove(w);
            return waiters.isEmpty() ? null : waiters;
        });
        if (mine[0]) {
            LOG.error("bdev {}: removal not finished after {} ms: {}", b.name(), removalTimeoutNanos / 1_000_000,
                    removalStage(b));
            w.finish(-Errno.ETIMEDOUT);
        }
    }

    /** What a removal still waits for, for the error that ends a caller's wait. */
    private static String removalStage(Bdev b) {
        if (!b.descs().isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (BdevDesc d : b.descs()) {
                sb.append(sb.isEmpty() ? "" : ", ").append(d.thread().name());
            }
            return b.descs().size() + " descriptor(s) still open, on thread(s) " + sb;
        }
        if (b.channelDevice().channelCount() > 0) {
            return "channels still held: " + b.channelDevice().describeHolders();
        }
        return "module " + b.module().name() + " has not finished destructing it";
    }

    /** One caller of {@link #unregister}: its completion, on its thread, and its bound (a timer there). */
    private static final class RemovalWaiter {
        private final BdevLayer layer;
        private final Bdev bdev;
        private final KeelThread caller;
        private final IntConsumer done;
        private Poller bound;

        RemovalWaiter(BdevLayer layer, Bdev bdev, KeelThread caller, IntConsumer done) {
            this.layer = layer;
            this.bdev = bdev;
            this.caller = caller;
            this.done = done;
        }

        /** On the caller. An exiting caller registers no timer: its own exit bound ends the wait. */
        void startBound() {
            if (caller.state() == KeelThread.State.RUNNING) {
                bound = caller.registerPoller("bdev_removal_" + bdev.name(), () -> {
                    layer.removalTimedOut(this);
                    return PollerFn.BUSY;
                }, layer.removalTimeoutNanos / 1000);
            }
        }

        /** From any thread, exactly once per waiter (the waiter list hands each out once). */
        void finish(int rc) {
            caller.send(RemovalWaiter::complete, new Object[] {this, rc});
        }

        private static void complete(Object[] m) {
            RemovalWaiter w = (RemovalWaiter) m[0];
            if (w.bound != null) {
                w.bound.unregister();
            }
            w.done.accept((Integer) m[1]);
        }
    }

    // ---- descriptors and claims ----

    /**
     * Opens a bdev on the calling thread. Fails with -ENODEV if there is none by that name, -EPERM if it is
     * opened for writing while another module holds its write claim.
     */
    public BdevDesc open(String name, boolean write, BdevEventHandler handler) {
        KeelThread t = KeelThread.current();
        if (t == null) {
            throw new IllegalStateException("open must be called from a lightweight thread");
        }
        Bdev b = byName.get(name);
        if (b == null || b.state != Bdev.State.REGISTERED) {
            throw new BdevException(Errno.ENODEV, "bdev " + name + " does not exist");
        }
        if (write && b.claimedBy() != null) {
            throw new BdevException(Errno.EPERM, "bdev " + name + " is claimed by module " + b.claimedBy().name());
        }
        BdevDesc d = new BdevDesc(this, b, write, handler, t);
        b.descs().add(d);
        if (b.state != Bdev.State.REGISTERED) { // the removal started between the check and the add: let go again
            d.close();
            throw new BdevException(Errno.ENODEV, "bdev " + name + " is being removed");
        }
        return d;
    }

    /**
     * Takes an exclusive-write claim on the descriptor's bdev for {@code module} (a RAID, a virtual bdev, an
     * NVMe-oF namespace): nobody else may open it for writing until the descriptor closes. -EPERM if another
     * module holds the claim or another descriptor has it open for writing.
     */
    public void claim(BdevDesc desc, BdevModule module) {
        Bdev b = desc.bdev();
        BdevModule holder = b.claimedBy();
        if (holder != null) {
            throw new BdevException(Errno.EPERM, "bdev " + b.name() + " already claimed by module " + holder.name());
        }
        for (BdevDesc other : b.descs()) {
            if (other != desc && other.writable() && !other.closed()) {
                throw new BdevException(Errno.EPERM, "bdev " + b.name() + " is open for writing elsewhere");
            }
        }
        if (!b.claim(module)) {
            throw new BdevException(Errno.EPERM, "bdev " + b.name() + " already claimed by module " + b.claimedBy().name());
        }
        desc.claimant(module);
    }

    void descClosed(BdevDesc d) {
        Bdev b = d.bdev();
        if (d.claimant() != null) {
            b.releaseClaim(d.claimant());
        }
        b.descs().remove(d);
        if (b.state == Bdev.State.REMOVING && b.descs().isEmpty()) {
            finishRemovalOnce(b);
        }
    }

    /** Changes a bdev's size and tells its descriptors RESIZE; shrinking an open bdev is refused (-EBUSY). */
    public void resize(Bdev b, long numBlocks) {
        if (numBlocks <= 0) {
            throw new BdevException(Errno.EINVAL, "a bdev needs at least one block");
        }
        if (numBlocks < b.numBlocks() && !b.descs().isEmpty()) {
            throw new BdevException(Errno.EBUSY, "bdev " + b.name() + " is open: it cannot shrink");
        }
        b.numBlocks(numBlocks);
        b.descs().forEach(d -> d.notify(BdevEvent.RESIZE));
    }

    // ---- statistics ----


    // ---- data buffers for reads submitted without one ----

    boolean canLendBuffer(long bytes) {
        return buffers.canLend(bytes);
    }

    void readBuffer(BdevChannel ch, BdevIo io) {
        buffers.lend(ch, io);
    }

    void returnBuffer(BdevChannel ch, MemorySegment buf) {
        buffers.giveBack(ch, buf);
    }
}
