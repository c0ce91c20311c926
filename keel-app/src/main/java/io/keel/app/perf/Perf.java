package io.keel.app.perf;

import io.keel.core.reactor.Reactor;
import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostStatus;
import io.keel.nvme.host.HostTransports;
import io.keel.nvme.host.NamespaceData;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs {@code keel perf} as spdk_nvme_perf runs: a reactor per core of the mask (poll mode unless
 * {@code --interrupt-mode}; pinned when {@code -c} chose the cores), the controllers ({@link HostController}:
 * admin queue, keep-alives, asynchronous events) on a lightweight thread of the first core, and one
 * {@link PerfWorker} per core, each on its own lightweight thread with its own poll group and one I/O queue pair
 * per namespace it drives (namespaces and workers paired as spdk_nvme_perf pairs them: the larger count goes round
 * the smaller). The launching thread only starts things and waits for them, every wait bounded; a controller or
 * queue that fails ends the run with its error. Allocation on the reactor threads is measured from the end of a
 * warm-up (30% of the run, at most 2 s) to just before the end.
 */
final class Perf {
    /** Bound on connecting one queue (TCP, ICResp, Fabrics Connect) and on each admin command. */
    static final long CONNECT_TIMEOUT_MS = 10_000;
    /** Bound on bringing every controller up (each of its steps is bounded by the above). */
    static final long BRING_UP_BOUND_MS = 60_000;
    /** Bound on connecting every I/O queue, and on the write-read check. */
    static final long SETUP_BOUND_MS = 30_000;
    /** How long past the run time the workers may take to drain, disconnect and close. */
    static final long END_BOUND_MS = PerfWorker.DRAIN_MS + 10_000;
    /** Bound on detaching every controller (each detach is itself bounded). */
    static final long DETACH_BOUND_MS = 15_000;
    /** Bound on the lightweight threads' exit. */
    static final long EXIT_BOUND_MS = 10_000;
    /** I/O queues asked of each controller (SPDK's default num_io_queues); it grants what it has. */
    static final int IO_QUEUES_ASKED = 1024;

    /** A controller of the run. */
    record Controller(PerfTarget target, HostController host) {
        String describe() {
            return target.describe();
        }
    }

    /** A namespace the run drives. */
    record Namespace(Controller ctrlr, NamespaceData data) {
        String describe() {
            return ctrlr.describe() + " NSID " + data.nsid();
        }
    }

    private final PerfOptions o;
    private final PrintWriter out;
    private final List<String> errors = new CopyOnWriteArrayList<>();
    /** Completes when the run must end before its time: a signal, or a failure. */
    private final CompletableFuture<Void> endEarly = new CompletableFuture<>();
    private volatile boolean interrupted;
    private volatile List<PerfWorker> workers = List.of();
    private volatile boolean threadsExiting;
    private final Set<PerfWorker> reportedHung = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Perf(PerfOptions o, PrintWriter out) {
        this.o = o;
        this.out = out;
    }

    /** Ends the run early (a signal); the figures cover the time run so far. Any thread. */
    void stop() {
        interrupted = true;
        endEarly.complete(null);
        stopAll();
    }

    /** A failure that ends the run (a controller or queue lost, a queue that cannot be made). Any thread. */
    void fail(String why) {
        error(why);
        endEarly.complete(null);
        stopAll();
    }

    /** A failure to report; the run goes on. Any thread. */
    void error(String why) {
        errors.add(why);
    }

    double seconds() {
        return o.seconds();
    }

    private void stopAll() {
        if (threadsExiting) {
            return;
        }
        for (PerfWorker w : workers) {
            w.thread.send(PerfWorker::stop, w);
        }
    }

    /** Runs to the end and reports; blocks the calling thread (never a reactor). Setup failures throw. */
    PerfResult run() throws IOException, InterruptedException {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                && mx.isThreadAllocatedMemorySupported() && !mx.isThreadAllocatedMemoryEnabled()) {
            mx.setThreadAllocatedMemoryEnabled(true);
        }
        ReactorRuntime rt = ReactorRuntime.start(new ReactorOptions(CpuMask.of(o.cores()), o.interruptMode(),
                o.pin(), ReactorOptions.DEFAULT_WATCHDOG_MILLIS, ReactorOptions.DEFAULT_RING_CAPACITY));
        KeelThread admin = rt.createThread("perf_ctrlr", CpuMask.of(o.cores()[0]));
        List<Controller> ctrlrs = new CopyOnWriteArrayList<>();
        HostPollGroup[] adminGroup = new HostPollGroup[1];
        try {
            return run(rt, admin, adminGroup, ctrlrs);
        } finally {
            teardown(rt, admin, adminGroup, ctrlrs);
        }
    }

    private PerfResult run(ReactorRuntime rt, KeelThread admin, HostPollGroup[] adminGroup, List<Controller> ctrlrs)
            throws IOException, InterruptedException {
        out.println("Initializing NVMe Controllers");
        out.flush();
        bringUp(admin, adminGroup, ctrlrs);
        List<Namespace> namespaces = choose(ctrlrs);
        List<PerfWorker> ws = associate(rt, ctrlrs, namespaces);
        workers = ws;
        if (endEarly.isDone()) {
            throw setupFailed("the run ended before its queues connected");
        }
        for (PerfWorker w : ws) {
            w.thread.send(PerfWorker::connect, w);
        }
        CompletableFuture<Void> connected = CompletableFuture.allOf(ws.stream().map(w -> w.connected)
                .toArray(CompletableFuture[]::new));
        if (!waitFor(connected, SETUP_BOUND_MS, true) || connected.isCompletedExceptionally()) {
            throw setupFailed("I/O queues did not connect within " + SETUP_BOUND_MS / 1000 + " s");
        }
        if (o.check()) {
            check(ws, namespaces);
        }
        out.println("Initialization complete. Launching workers.");
        out.flush();
        return measure(rt, ws);
    }

    // ---- setup ----

    private void bringUp(KeelThread admin, HostPollGroup[] adminGroup, List<Controller> ctrlrs)
            throws IOException, InterruptedException {
        for (PerfTarget t : o.targets()) {
            String why = HostTransports.byName(t.trid().trtype()).unavailable();
            if (why != null) {
                throw setupFailed("trtype " + t.trid().trtype() + " cannot be used here: " + why);
            }
        }
        UUID hostId = UUID.randomUUID();
        String hostNqn = o.hostNqn() != null ? o.hostNqn() : ControllerOptions.hostNqnOf(hostId);
        ControllerOptions base = new ControllerOptions(hostNqn, hostId, o.keepAliveMs(), o.headerDigest(),
                o.dataDigest(), Math.max(IO_QUEUES_ASKED, o.cores().length), 32, CONNECT_TIMEOUT_MS,
                CONNECT_TIMEOUT_MS);
        HostController.Listener listener = new HostController.Listener() {
            @Override
            public void lost(HostController c, String reason) {
                fail("controller " + describe(c) + " failed: " + reason);
            }

            @Override
            public void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed,
                    List<Integer> resized) {
                // a namespace that goes away fails its I/O, which the report counts
            }
        };
        List<CompletableFuture<String>> ups = new ArrayList<>();
        for (int i = 0; i < o.targets().size(); i++) {
            ups.add(new CompletableFuture<>());
        }
        CompletableFuture<Void> made = onThread(admin, () -> {
            adminGroup[0] = new HostPollGroup(admin);
            for (int i = 0; i < o.targets().size(); i++) {
                PerfTarget t = o.targets().get(i);
                ControllerOptions opts = t.hostNqn() == null ? base : base.withHost(t.hostNqn(), hostId);
                HostController c = new HostController(adminGroup[0], HostTransports.byName(t.trid().trtype()),
                        t.trid(), opts, listener);
                ctrlrs.add(new Controller(t, c));
                CompletableFuture<String> up = ups.get(i);
                c.start(err -> up.complete(err == null ? "" : err));
            }
            return null;
        });
        if (!waitFor(made, SETUP_BOUND_MS, false) || made.isCompletedExceptionally()) {
            throw setupFailed("cannot create the controllers: " + cause(made));
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(ups.toArray(CompletableFuture[]::new));
        waitFor(all, BRING_UP_BOUND_MS, true);
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < ups.size(); i++) {
            CompletableFuture<String> up = ups.get(i);
            String who = o.targets().get(i).trid().toString();
            if (!up.isDone()) {
                problems.add(interrupted ? "stopped while attaching to " + who
                        : "controller " + who + " did not come up within " + BRING_UP_BOUND_MS / 1000 + " s");
            } else if (!up.join().isEmpty()) {
                problems.add("cannot attach to " + who + ": " + up.join());
            }
        }
        if (!problems.isEmpty()) {
            throw setupFailed(String.join("; ", problems));
        }
        for (Controller c : ctrlrs) {
            var d = c.host().data();
            out.printf("Attached to NVMe over Fabrics controller at %s:%d: %s (cntlid %d)%n", c.target().trid().traddr(),
                    c.target().trid().trsvcid(), c.target().trid().subnqn(), d.cntlid());
        }
    }

    /** The namespaces to drive: the one {@code ns:} names, else every active one, less those the I/O cannot use. */
    private List<Namespace> choose(List<Controller> ctrlrs) throws IOException {
        List<Namespace> chosen = new ArrayList<>();
        boolean skipped = false;
        for (Controller c : ctrlrs) {
            Map<Integer, NamespaceData> active = c.host().namespaces();
            List<NamespaceData> candidates;
            if (c.target().nsid() != 0) {
                NamespaceData d = active.get(c.target().nsid());
                if (d == null) {
                    throw setupFailed("namespace " + c.target().nsid() + " of " + c.describe()
                            + " does not exist (active namespaces: " + active.keySet() + ")");
                }
                candidates = List.of(d);
            } else {
                candidates = List.copyOf(active.values()); // in NSID order
            }
            for (NamespaceData d : candidates) {
                String why = unusable(c, d);
                if (why != null) {
                    out.println("WARNING: " + why + ". Removing this namespace from the test");
                    skipped = true;
                } else {
                    chosen.add(new Namespace(c, d));
                }
            }
            int entries = c.host().data().maxQueueEntries();
            if (o.queueDepth() + 1 > entries) {
                out.printf("Controller IO queue size %d, less than required.%n", entries);
                out.println("Consider using lower queue depth or smaller IO size, because IO requests may be queued "
                        + "at the NVMe driver.");
            }
        }
        if (skipped) {
            out.println("WARNING: Some requested NVMe devices were skipped");
        }
        if (chosen.isEmpty()) {
            throw setupFailed("no namespace to drive: the controllers have no active namespace the I/O size fits");
        }
        return chosen;
    }

    private String unusable(Controller c, NamespaceData d) {
        String ns = "NSID " + d.nsid() + " of " + c.describe();
        if (o.ioSize() % d.blockSize() != 0) {
            return "I/O size " + o.ioSize() + " (-o) is not a multiple of " + ns + "'s block size " + d.blockSize();
        }
        if (d.blocks() < o.ioSize() / d.blockSize()) {
            return ns + " (" + d.blocks() + " blocks of " + d.blockSize() + " bytes) is smaller than the I/O size "
                    + o.ioSize();
        }
        if (o.ioSize() / d.blockSize() > 0x10000) {
            return "I/O size " + o.ioSize() + " is more than the 65536 blocks of " + ns + " one command carries";
        }
        long mdts = c.host().data().maxTransferBytes();
        if (mdts != 0 && o.ioSize() > mdts) {
            return "I/O size " + o.ioSize() + " exceeds the MDTS of " + c.describe() + " (" + mdts + " bytes)";
        }
        return null;
    }

    /**
     * One worker per core, and the (worker, namespace) pairs as spdk_nvme_perf makes them: max(workers,
     * namespaces) pairs, worker i mod W with namespace i mod N.
     */
    private List<PerfWorker> associate(ReactorRuntime rt, List<Controller> ctrlrs, List<Namespace> namespaces)
            throws IOException {
        int[] cores = o.cores();
        int count = Math.max(cores.length, namespaces.size());
        int[] shares = new int[namespaces.size()];
        for (int i = 0; i < count; i++) {
            shares[i % namespaces.size()]++;
        }
        for (Controller c : ctrlrs) {
            long needed = 0;
            for (int i = 0; i < count; i++) {
                needed += namespaces.get(i % namespaces.size()).ctrlr() == c ? 1 : 0;
            }
            int granted = c.host().data().ioQueuesGranted();
            if (needed > granted) {
                throw setupFailed("controller " + c.describe() + " granted " + granted + " I/O queues, " + needed
                        + " needed (one per namespace per core driving it)");
            }
        }
        List<PerfWorker> ws = new ArrayList<>();
        for (int core : cores) {
            ws.add(new PerfWorker(core, rt.createThread("perf_worker_" + core, CpuMask.of(core)), this));
        }
        int[] seen = new int[namespaces.size()];
        for (int i = 0; i < count; i++) {
            PerfWorker w = ws.get(i % cores.length);
            int e = i % namespaces.size();
            Namespace ns = namespaces.get(e);
            w.ctxs.add(new NsWorkerCtx(w, ns, o, seen[e]++, shares[e], w.ctxs.size()));
            out.printf("Associating %s with lcore %d%n", ns.describe(), w.core);
        }
        out.flush();
        return ws;
    }

    /** {@code --check} on each namespace, through the first queue that drives it. */
    private void check(List<PerfWorker> ws, List<Namespace> namespaces) throws IOException, InterruptedException {
        List<CompletableFuture<String>> results = new ArrayList<>();
        Set<Namespace> seen = new LinkedHashSet<>();
        for (PerfWorker w : ws) {
            for (NsWorkerCtx c : w.ctxs) {
                if (seen.add(c.ns)) {
                    CompletableFuture<String> f = new CompletableFuture<>();
                    results.add(f);
                    w.thread.send(() -> c.check(f::complete));
                }
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(results.toArray(CompletableFuture[]::new));
        waitFor(all, SETUP_BOUND_MS, true);
        for (CompletableFuture<String> f : results) {
            if (!f.isDone()) {
                throw setupFailed("check: no answer within " + SETUP_BOUND_MS / 1000 + " s");
            }
            if (f.join().startsWith("check:")) {
                throw setupFailed(f.join());
            }
            out.println("Check: " + f.join());
        }
    }

    // ---- the run ----

    private PerfResult measure(ReactorRuntime rt, List<PerfWorker> ws) throws InterruptedException {
        long start = rt.clock().nanoTime();
        for (PerfWorker w : ws) {
            w.thread.send(PerfWorker::start, w);
        }
        long runNs = Math.round(o.seconds() * 1e9);
        long warmNs = Math.min((long) (runNs * 0.3), 2_000_000_000L);
        long windowEndNs = runNs - Math.min(100_000_000L, runNs / 20);
        PerfResult.Allocation alloc = null;
        if (waitUntil(rt, start + warmNs, endEarly)) {
            long bytes0 = allocated(rt);
            long ios0 = completed(ws);
            long from = rt.clock().nanoTime();
            waitUntil(rt, start + windowEndNs, endEarly);
            long bytes1 = allocated(rt);
            long ios1 = completed(ws);
            long to = rt.clock().nanoTime();
            if (bytes0 >= 0 && bytes1 >= 0) {
                alloc = new PerfResult.Allocation(bytes1 - bytes0, ios1 - ios0, (from - start) / 1e9,
                        (to - start) / 1e9, rt.reactors().stream().map(r -> "reactor_" + r.core()).toList());
            }
        }
        CompletableFuture<Void> allDone = CompletableFuture.allOf(ws.stream().map(w -> w.done)
                .toArray(CompletableFuture[]::new));
        waitUntil(rt, start + runNs + END_BOUND_MS * 1_000_000, allDone);
        List<PerfResult.Line> lines = new ArrayList<>();
        for (PerfWorker w : ws) {
            boolean finished = w.done.isDone();
            if (!finished && reportedHung.add(w)) {
                errors.add("worker on core " + w.core + " did not finish: its queues were not closed "
                        + END_BOUND_MS / 1000 + " s after the run time was up");
            }
            double seconds = finished ? w.seconds() : (rt.clock().nanoTime() - start) / 1e9;
            for (NsWorkerCtx c : w.ctxs) {
                if (c.failed > 0) {
                    errors.add(c.name + ": " + c.failed + " I/O failed, the first with "
                            + HostStatus.describe(c.firstFailureStatus));
                }
                lines.add(new PerfResult.Line(c.name, seconds, c.completed, c.reads, c.writes, c.failed, o.ioSize(),
                        finished ? c.latency : c.latency.copy()));
            }
        }
        return new PerfResult(lines, alloc, List.copyOf(errors));
    }

    // ---- teardown ----

    /** Stops the workers, detaches the controllers, exits the threads and stops the reactors; all bounded. */
    private void teardown(ReactorRuntime rt, KeelThread admin, HostPollGroup[] adminGroup, List<Controller> ctrlrs)
            throws InterruptedException {
        try {
            List<PerfWorker> ws = workers;
            stopAll();
            CompletableFuture<Void> allDone = CompletableFuture.allOf(ws.stream().map(w -> w.done)
                    .toArray(CompletableFuture[]::new));
            waitFor(allDone, END_BOUND_MS, false);
            for (PerfWorker w : ws) {
                if (!w.done.isDone() && reportedHung.add(w)) {
                    errors.add("worker on core " + w.core + " did not close its queues within " + END_BOUND_MS / 1000
                            + " s");
                }
            }
            CompletableFuture<Void> detached = new CompletableFuture<>();
            boolean sent = admin.send(() -> {
                int[] left = {ctrlrs.size()};
                Runnable one = () -> {
                    if (--left[0] <= 0) {
                        if (adminGroup[0] != null) {
                            adminGroup[0].close();
                        }
                        detached.complete(null);
                    }
                };
                if (ctrlrs.isEmpty()) {
                    left[0] = 1;
                    one.run();
                }
                for (Controller c : ctrlrs) {
                    c.host().detach(one);
                }
            });
            if (sent && !waitFor(detached, DETACH_BOUND_MS, false)) {
                errors.add("the controllers did not detach within " + DETACH_BOUND_MS / 1000 + " s");
            }
            threadsExiting = true;
            List<KeelThread> threads = new ArrayList<>();
            ws.forEach(w -> threads.add(w.thread));
            threads.add(admin);
            List<CompletableFuture<Void>> exits = new ArrayList<>();
            for (KeelThread t : threads) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                exits.add(f);
                t.exit(() -> f.complete(null));
            }
            waitFor(CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new)), EXIT_BOUND_MS, false);
        } finally {
            rt.close();
        }
    }

    // ---- helpers ----

    /** The error that ends a run before it started: the failures reported meanwhile, else {@code message}. */
    private IOException setupFailed(String message) {
        List<String> e = List.copyOf(errors);
        if (!e.isEmpty()) {
            return new IOException(String.join("; ", e));
        }
        return new IOException(interrupted ? "stopped before the run started (" + message + ")" : message);
    }

    /** Runs {@code fn} on {@code t}; the future has its value or its exception. */
    private static <T> CompletableFuture<T> onThread(KeelThread t, Supplier<T> fn) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (!t.send(() -> {
            try {
                f.complete(fn.get());
            } catch (RuntimeException | Error e) {
                f.completeExceptionally(e);
            }
        })) {
            f.completeExceptionally(new IllegalStateException("thread " + t.name() + " has exited"));
        }
        return f;
    }

    /** Waits (bounded) for {@code f}; also returns at once when the run ends early and {@code orEnd}. */
    private boolean waitFor(CompletableFuture<?> f, long timeoutMs, boolean orEnd) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!f.isDone()) {
            if (orEnd && endEarly.isDone()) {
                return false;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                f.get(Math.min(left, 20_000_000L), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // looked at again above
            }
        }
        return true;
    }

    /** Waits until {@code deadline} on the runtime's clock, or until {@code f}; false when {@code f} came first. */
    private static boolean waitUntil(ReactorRuntime rt, long deadline, CompletableFuture<?> f)
            throws InterruptedException {
        while (true) {
            if (f.isDone()) {
                return false;
            }
            long left = deadline - rt.clock().nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                f.get(Math.min(left, 20_000_000L), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // looked at again above
            }
        }
    }

    private static long allocated(ReactorRuntime rt) {
        long sum = 0;
        for (Reactor r : rt.reactors()) {
            long b = r.allocatedBytes();
            if (b < 0) {
                return -1;
            }
            sum += b;
        }
        return sum;
    }

    private static long completed(List<PerfWorker> ws) {
        long n = 0;
        for (PerfWorker w : ws) {
            n += w.completed();
        }
        return n;
    }

    private static String describe(HostController c) {
        return c.trid().trtype() + " (addr:" + c.trid().traddr() + " subnqn:" + c.trid().subnqn() + ")";
    }

    private static String cause(CompletableFuture<?> f) {
        if (!f.isDone()) {
            return "no answer";
        }
        try {
            f.join();
            return "?";
        } catch (java.util.concurrent.CompletionException e) {
            return String.valueOf(e.getCause());
        }
    }
}
