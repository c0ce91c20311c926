package io.keel.app.bdevperf;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.IoType;
import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * SPDK's bdevperf, in process: starts a Keel application on the cores of {@code -m}, lets its config create
 * the bdevs, runs one {@link Job} per bdev per core (each on a lightweight thread pinned to its core, over its
 * own slice of the bdev, as SPDK's {@code -C} does), then reports and stops the application. The launching
 * thread only orchestrates and waits; every I/O runs on the reactors.
 */
public final class Bdevperf {
    /** How long the application may take to start (load the config, initialise subsystems). */
    static final long START_TIMEOUT_MILLIS = 60_000;
    /** How long jobs may take to open their bdevs. */
    static final long SETUP_TIMEOUT_MILLIS = 30_000;
    /** How long outstanding I/O may take to complete after the run time is up (at least; more with a long -k). */
    static final long DRAIN_TIMEOUT_MILLIS = 10_000;
    /** How long the application may take to shut down. */
    static final long SHUTDOWN_TIMEOUT_MILLIS = 15_000;

    private final BdevperfOptions o;
    private final PrintWriter out;
    private final PrintWriter err;
    /** Failures printed as they happen, at most; the rest are counted. */
    static final int PRINTED_ERRORS = 10;

    private final Run run = new Run();
    /** {@code -z}: perform_tests calls waiting for the launching thread, and whether one is taken. */
    private final BlockingQueue<TestRequest> requests = new LinkedBlockingQueue<>();
    private final AtomicBoolean testBusy = new AtomicBoolean();
    private int printedErrors;
    private Consumer<KeelApp> beforeJobs = app -> { };
    private long drainTimeoutMillis = DRAIN_TIMEOUT_MILLIS;
    private long shutdownTimeoutMillis = SHUTDOWN_TIMEOUT_MILLIS;
    private volatile boolean stopRequested;
    private volatile List<Job> running = List.of();
    private volatile KeelThread[] runningThreads = new KeelThread[0];

    /** {@code out} gets the results; {@code err} progress and failures as they happen. */
    public Bdevperf(BdevperfOptions options, PrintWriter out, PrintWriter err) {
        this.o = options;
        this.out = out;
        this.err = err;
    }

    /** Runs {@code hook} on the launching thread once the application runs, before bdevs are chosen (tests add bdevs). */
    Bdevperf beforeJobs(Consumer<KeelApp> hook) {
        this.beforeJobs = hook;
        return this;
    }

    /** Shorter bounds for tests of hung I/O: how long to wait for the drain, and for the shutdown. */
    Bdevperf timeouts(long drainMillis, long shutdownMillis) {
        this.drainTimeoutMillis = drainMillis;
        this.shutdownTimeoutMillis = shutdownMillis;
        return this;
    }

    /** Stops the run early (a signal): jobs stop submitting, drain, and report what they did. Any thread. */
    public void stop() {
        stopRequested = true;
        List<Job> jobs = running;
        KeelThread[] threads = runningThreads;
        for (int i = 0; i < jobs.size(); i++) {
            Job j = jobs.get(i);
            if (!j.done.isDone()) {
                threads[i].send(j::stop);
            }
        }
    }

    /** Runs the benchmark to its end and reports; blocks the calling thread (never a reactor). */
    public BdevperfResult run() throws InterruptedException {
        Path tempDir = null;
        KeelApp app = null;
        List<Job> jobs = new ArrayList<>();
        BdevperfResult result;
        try {
            Path socket = o.rpcSocket();
            if (socket == null && o.waitForTests()) {
                socket = AppOptions.defaults().rpcSocket(); // tests come by RPC: a known path, as SPDK's default is
            } else if (socket == null) {
                tempDir = Files.createTempDirectory("keel-bdevperf-");
                socket = tempDir.resolve("keel.sock");
            }
            app = KeelApp.create(AppOptions.defaults().withCores(o.cores()).withRpcSocket(socket)
                    .withConfig(o.config()).withInterruptMode(o.interruptMode()).withPin(o.pin()));
            if (o.waitForTests()) {
                // before the RPC server starts: a client that finds the socket finds the method (runtime only)
                app.methods().register("perform_tests", PerformTestsParams.class, this::queueTest);
            }
            app.start();
            String startProblem = awaitRunning(app);
            if (startProblem != null) {
                return fail(startProblem);
            }
            beforeJobs.accept(app);
            BdevLayer layer = BdevLayer.of(app);
            if (o.waitForTests()) {
                result = serveTests(app, layer, socket);
            } else {
                jobs.addAll(makeJobs(layer, selectBdevs(layer), o));
                result = runJobs(app, jobs, o);
            }
        } catch (Problem e) {
            result = fail(e.getMessage());
        } catch (IOException e) {
            result = fail("cannot create a private RPC socket directory: " + e.getMessage());
        } finally {
            int appExit = stopApp(app);
            freeBuffers(jobs);
            deleteQuietly(tempDir);
            if (appExit != 0 && app != null) {
                run.error("Keel did not shut down cleanly (exit code " + appExit + ")");
            }
        }
        printNewErrors();
        List<String> errors = run.all();
        return new BdevperfResult(result.exitCode() == 0 && errors.isEmpty() ? 0 : 1, result.jobs(), result.total(),
                result.allocation(), errors, run.count(), result.terminated());
    }

    // ---- the steps ----

    private record TestRequest(PerformTestsParams params, RpcCall call) {
    }

    /** perform_tests (the RPC server's thread): queued for the launching thread; refused while a test is taken. */
    private void queueTest(PerformTestsParams p, RpcCall call) {
        if (!testBusy.compareAndSet(false, true)) {
            call.fail(RpcException.INTERNAL_ERROR, "Another test is already in progress");
            return;
        }
        requests.add(new TestRequest(p == null ? new PerformTestsParams(null, null, null, null, null) : p, call));
    }

    /**
     * {@code -z}: runs a test per {@code perform_tests} call until a signal stops bdevperf, printing each test's
     * results and answering the call with them (SPDK's shape); a call while a test runs is refused. As SPDK's
     * bdevperf does, a test that fails answers with the failure and ends bdevperf. Answers the last test's result
     * (already printed).
     */
    private BdevperfResult serveTests(KeelApp app, BdevLayer layer, Path socket) throws InterruptedException {
        err.printf("bdevperf: waiting for perform_tests on %s%n", socket);
        err.flush();
        BdevperfResult last = new BdevperfResult(0, List.of(), null, null, List.of(), 0, true);
        BdevperfOptions values = o; // what the next call starts from: each accepted call's values stay
        while (!stopRequested) {
            TestRequest req = requests.poll(50, TimeUnit.MILLISECONDS);
            printNewErrors();
            if (req == null) {
                continue;
            }
            List<Job> jobs = new ArrayList<>();
            BdevperfOptions test;
            try {
                test = values.forTest(req.params());
                jobs.addAll(makeJobs(layer, selectBdevs(layer), test));
                values = test;
            } catch (IllegalArgumentException | Problem e) {
                testBusy.set(false);
                req.call().fail(RpcException.invalidParams(e.getMessage()));
                continue;
            }
            BdevperfResult r;
            try {
                r = runJobs(app, jobs, test);
            } finally {
                freeBuffers(jobs);
            }
            Report.print(r, test, out);
            testBusy.set(false);
            if (r.exitCode() != 0) {
                req.call().fail(RpcException.INTERNAL_ERROR, "bdevperf failed: "
                        + (r.errors().isEmpty() ? "an I/O failed" : r.errors().getFirst()));
                return r;
            }
            req.call().respond(Report.json(r, test.cores().count()));
            last = r;
        }
        for (TestRequest late; (late = requests.poll()) != null; ) {
            late.call().fail(RpcException.internal("bdevperf is stopping"));
        }
        return last;
    }

    /** Frees the buffers of the jobs that ended (a job still running keeps them: its I/O may still land there). */
    private static void freeBuffers(List<Job> jobs) {
        for (Job j : jobs) {
            if (j.done.isDone()) {
                j.freeBuffers();
            }
        }
    }

    /** Waits until the application runs; returns why it does not, or null. */
    private String awaitRunning(KeelApp app) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        while (true) {
            KeelApp.State s = app.state();
            if (s == KeelApp.State.RUNNING) {
                return null;
            }
            if (s == KeelApp.State.STOPPING || s == KeelApp.State.STOPPED) {
                return "Keel did not start (see the log above); config " + o.config();
            }
            if (System.nanoTime() > deadline) {
                return "Keel did not start within " + START_TIMEOUT_MILLIS / 1000 + " s; config " + o.config();
            }
            Thread.sleep(2);
        }
    }

    private List<Bdev> selectBdevs(BdevLayer layer) {
        List<Bdev> all = layer.bdevs();
        if (o.bdevNames().isEmpty()) {
            List<Bdev> leaves = all.stream().filter(b -> b.claimedBy() == null).toList();
            if (leaves.isEmpty()) {
                throw new Problem(all.isEmpty() ? "the config " + o.config() + " creates no bdev: nothing to test"
                        : "every bdev is claimed by a module: name one with -T");
            }
            return leaves;
        }
        List<Bdev> chosen = new ArrayList<>();
        for (String name : o.bdevNames()) {
            Bdev b = layer.get(name);
            if (b == null) {
                throw new Problem("bdev '" + name + "' does not exist; bdevs: "
                        + all.stream().map(Bdev::name).collect(Collectors.joining(", ")));
            }
            if (!chosen.contains(b)) {
                chosen.add(b);
            }
        }
        return chosen;
    }

    private List<Job> makeJobs(BdevLayer layer, List<Bdev> bdevs, BdevperfOptions test) {
        int[] cores = test.cores().cores();
        List<Job> jobs = new ArrayList<>();
        for (Bdev b : bdevs) {
            if (test.ioSize() % b.blockSize() != 0) {
                throw new Problem("I/O size (-o) " + test.ioSize() + " is not a multiple of bdev " + b.name()
                        + "'s block size " + b.blockSize());
            }
            Set<IoType> missing = EnumSet.copyOf(test.workload().needs());
            missing.removeIf(b::supports);
            if (!missing.isEmpty()) {
                err.printf("bdevperf: skipping bdev %s: it does not support %s%n", b.name(),
                        missing.stream().map(IoType::wireName).collect(Collectors.joining(", ")));
                err.flush();
                continue;
            }
            long ioBlocks = test.ioSize() / b.blockSize();
            long span = test.lengthBlocks() == 0 ? b.numBlocks() - test.offsetBlocks() : test.lengthBlocks();
            if (test.offsetBlocks() % ioBlocks != 0 || span < 0 || test.offsetBlocks() + span > b.numBlocks()) {
                throw new Problem("--offset " + test.offsetBlocks() + " --length " + test.lengthBlocks() + " is not a range of "
                        + "bdev " + b.name() + " (" + b.numBlocks() + " blocks) starting at a multiple of the "
                        + ioBlocks + "-block I/O size");
            }
            long blocksPerJob = span / cores.length;
            long iosPerJob = blocksPerJob / ioBlocks;
            if (iosPerJob == 0) {
                throw new Problem("bdev " + b.name() + " (" + span + " blocks of " + b.blockSize()
                        + " bytes to use) is too small for " + cores.length + " job(s) of " + test.ioSize() + "-byte I/O");
            }
            if (test.workload().verifies() && iosPerJob >= Integer.MAX_VALUE * 64L) {
                throw new Problem("bdev " + b.name() + " is too large to verify with " + test.ioSize() + "-byte I/O");
            }
            int qd = test.queueDepth();
            if (test.workload().verifies() && qd > iosPerJob) {
                err.printf("bdevperf: queue depth %d exceeds the %d I/O-sized ranges of bdev %s per job: "
                        + "verify never has two I/Os to one range at once, so it runs at depth %d%n", qd, iosPerJob,
                        b.name(), iosPerJob);
                err.flush();
                qd = (int) iosPerJob;
            }
            for (int i = 0; i < cores.length; i++) {
                long iosBase = (test.offsetBlocks() + i * blocksPerJob) / ioBlocks;
                jobs.add(new Job(jobs.size(), b, cores[i], iosBase, iosPerJob, qd, test, layer, run));
            }
        }
        if (jobs.isEmpty()) {
            throw new Problem("no bdev supports the " + test.workload() + " workload");
        }
        return jobs;
    }

    private BdevperfResult runJobs(KeelApp app, List<Job> jobs, BdevperfOptions test) throws InterruptedException {
        AllocationMeter meter = AllocationMeter.forReactors(test.cores().cores());
        KeelThread[] threads = new KeelThread[jobs.size()];
        for (int i = 0; i < jobs.size(); i++) {
            Job j = jobs.get(i);
            KeelThread t = app.runtime().createThread("bdevperf_" + j.name() + "_core" + j.core, CpuMask.of(j.core));
            threads[i] = t;
            t.send(() -> j.setup(t));
        }
        List<String> setupErrors = new ArrayList<>();
        waitAll(jobs.stream().map(j -> j.ready).toList(), SETUP_TIMEOUT_MILLIS);
        for (Job j : jobs) {
            if (!j.ready.isDone()) {
                setupErrors.add("job on bdev " + j.name() + ", core " + j.core + " did not open its bdev within "
                        + SETUP_TIMEOUT_MILLIS / 1000 + " s");
            } else if (j.ready.isCompletedExceptionally()) {
                setupErrors.add("cannot open bdev " + j.name() + " on core " + j.core + ": " + cause(j.ready));
            }
        }
        running = jobs;
        runningThreads = threads;
        if (!setupErrors.isEmpty() || stopRequested) {
            setupErrors.forEach(run::error);
            stop();
            waitAll(jobs.stream().map(j -> j.done).toList(), SETUP_TIMEOUT_MILLIS);
            if (setupErrors.isEmpty()) {
                return new BdevperfResult(0, List.of(), null, null, run.all(), run.count(), true);
            }
            return BdevperfResult.failedBeforeIo(run.all());
        }

        PrintWriter progress = test.json() ? err : out;
        progress.printf("Running I/O for %s seconds...%n", seconds(test.seconds()));
        progress.flush();
        long runNanos = Math.round(test.seconds() * 1e9);
        long start = System.nanoTime();
        for (int i = 0; i < jobs.size(); i++) {
            threads[i].send(jobs.get(i)::start);
        }
        CompletableFuture<Void> allDone = CompletableFuture.allOf(jobs.stream().map(j -> j.done)
                .toArray(CompletableFuture[]::new));

        // bytes allocated per I/O on the reactors, in steady state: a window after a warm-up, before the end
        long warmup = Math.min(1_000_000_000L, runNanos / 4);
        long windowEnd = runNanos - Math.min(100_000_000L, runNanos / 20);
        BdevperfResult.Allocation allocation = null;
        if (sleepUntil(start + warmup, allDone) && meter != null) {
            long bytes0 = meter.allocatedBytes();
            long ios0 = ioCount(jobs);
            long t0 = System.nanoTime();
            sleepUntil(start + windowEnd, allDone);
            long bytes1 = meter.allocatedBytes();
            long ios1 = ioCount(jobs);
            long t1 = System.nanoTime();
            allocation = new BdevperfResult.Allocation(bytes1 - bytes0, ios1 - ios0, (t0 - start) / 1e9,
                    (t1 - start) / 1e9, meter.threadNames());
        }

        long drainMillis = Math.max(drainTimeoutMillis, Math.round(test.timeoutSeconds() * 2000));
        sleepUntil(start + runNanos + TimeUnit.MILLISECONDS.toNanos(drainMillis), allDone);
        long now = System.nanoTime();
        List<JobResult> results = new ArrayList<>();
        Histogram merged = new Histogram(1, Job.MAX_LATENCY_NANOS, 3);
        long ios = 0;
        long failed = 0;
        long timedOut = 0;
        long miscompares = 0;
        long resets = 0;
        double iops = 0;
        double mibps = 0;
        double failedPerSecond = 0;
        double timedOutPerSecond = 0;
        boolean terminated = false;
        for (Job j : jobs) {
            boolean finished = j.done.isDone();
            String status;
            double runtime;
            Histogram h;
            long jobFailed = j.failedCount();
            if (finished) {
                runtime = j.startNanos == 0 ? 0 : (j.endNanos - j.startNanos) / 1e9;
                h = j.histogram;
                status = jobFailed > 0 || j.miscompares > 0 ? "failed" : j.terminated ? "terminated" : "finished";
                terminated |= j.terminated;
            } else {
                runtime = (now - start) / 1e9;
                h = j.histogram.copy(); // racy but quiet: its I/O is not completing
                status = "hung";
                run.error("job on bdev " + j.name() + ", core " + j.core + " did not finish: I/O still outstanding "
                        + drainMillis / 1000.0 + " s after the run time was up");
            }
            JobResult r = JobResult.of(j.name(), j.core, "0x" + CpuMask.of(j.core), j.workload, j.readPercent,
                    j.queueDepth, j.ioSize, status, j.workload.verifies() ? j.iosBase : -1,
                    j.workload.verifies() ? j.sizeInIos : -1, runtime, j.completedCount(), jobFailed,
                    j.timedOutCount(), finished ? j.miscompares : 0, finished ? j.resets : 0,
                    finished ? j.nomemWaits : 0, h);
            results.add(r);
            merged.add(h);
            ios += r.ios();
            failed += r.failed();
            timedOut += r.timedOut();
            miscompares += r.miscompares();
            resets += r.resets();
            iops += r.iops();
            mibps += r.mibps();
            failedPerSecond += r.failedPerSecond();
            timedOutPerSecond += r.timedOutPerSecond();
        }
        boolean anyMerged = merged.getTotalCount() > 0;
        JobResult first = results.getFirst();
        String totalStatus = results.stream().allMatch(JobResult::ok) ? (terminated ? "terminated" : "finished") : "failed";
        JobResult total = new JobResult("Total", -1, "0x" + test.cores(), test.workload(), first.readPercent(),
                first.queueDepth(), test.ioSize(), totalStatus, -1, -1,
                results.stream().mapToDouble(JobResult::runtimeSeconds).max().orElse(0), ios, failed, timedOut,
                miscompares, resets, results.stream().mapToLong(JobResult::ioWaits).sum(), iops, mibps,
                failedPerSecond, timedOutPerSecond,
                anyMerged ? merged.getMean() / 1000.0 : 0, anyMerged ? merged.getValueAtPercentile(50) / 1000.0 : 0,
                anyMerged ? merged.getValueAtPercentile(99) / 1000.0 : 0,
                anyMerged ? merged.getValueAtPercentile(99.9) / 1000.0 : 0,
                anyMerged ? merged.getMinValue() / 1000.0 : 0, anyMerged ? merged.getMaxValue() / 1000.0 : 0);
        printNewErrors();
        List<String> errors = run.all();
        int code = errors.isEmpty() && !totalStatus.equals("failed") ? 0 : 1;
        return new BdevperfResult(code, results, total, allocation, errors, run.count(), terminated || stopRequested);
    }

    /** Asks the application to shut down and waits for it; returns its exit code (non-zero if it hung). */
    private int stopApp(KeelApp app) throws InterruptedException {
        if (app == null) {
            return 0;
        }
        app.shutdown();
        try {
            return app.awaitExit(shutdownTimeoutMillis);
        } catch (TimeoutException e) {
            run.error("Keel did not shut down within " + shutdownTimeoutMillis / 1000.0 + " s (stopping its reactors)");
            if (app.runtime() != null) {
                app.runtime().close();
            }
            return 1;
        }
    }

    // ---- helpers ----

    private BdevperfResult fail(String message) {
        run.error(message);
        printNewErrors();
        return BdevperfResult.failedBeforeIo(run.all());
    }

    /** Prints failures the jobs reported since the last call, as they come (loudly: they end the run). */
    private void printNewErrors() {
        List<String> fresh = run.takeNew();
        for (String e : fresh) {
            if (printedErrors++ < PRINTED_ERRORS) {
                err.println("bdevperf: " + e);
            } else if (printedErrors == PRINTED_ERRORS + 1) {
                err.println("bdevperf: further errors are counted, not printed");
            }
        }
        if (!fresh.isEmpty()) {
            err.flush();
        }
    }

    /** Sleeps until {@code deadline} (System.nanoTime) or until {@code done}; false if done came first. */
    private boolean sleepUntil(long deadline, CompletableFuture<?> done) throws InterruptedException {
        while (true) {
            printNewErrors();
            if (done.isDone()) {
                return false;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                done.get(Math.min(left, 50_000_000L), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // keep waiting; a failed future counts as done
            }
        }
    }

    private void waitAll(List<CompletableFuture<Void>> fs, long timeoutMillis) throws InterruptedException {
        CompletableFuture<Void> all = CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new));
        sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis), all);
    }

    private static long ioCount(List<Job> jobs) {
        long n = 0;
        for (Job j : jobs) {
            n += j.completedCount() + j.failedCount();
        }
        return n;
    }

    private static String cause(CompletableFuture<?> f) {
        try {
            f.join();
            return "?";
        } catch (java.util.concurrent.CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return c.getMessage() != null ? c.getMessage() : c.toString();
        }
    }

    private static String seconds(double s) {
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // a temporary directory left behind is harmless
        }
    }

    /** A reason the run cannot go on, said to the user as is. */
    static final class Problem extends RuntimeException {
        Problem(String message) {
            super(message, null, false, false);
        }
    }
}
