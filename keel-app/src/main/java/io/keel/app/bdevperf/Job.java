package io.keel.app.bdevperf;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevIoWaiter;
import io.keel.bdev.BdevLayer;
import io.keel.core.mem.DmaMemory;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.core.time.Clock;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import org.HdrHistogram.Histogram;

/**
 * One bdevperf job: one bdev, one core, its own lightweight thread pinned there, {@code -q} I/Os in flight over
 * its slice of the bdev. Everything it allocates (tasks, their off-heap buffers, the latency histogram, the
 * verify bitmap, the callbacks) is made once, before the run; in steady state an I/O allocates nothing. The
 * buffers are one region registered in {@link DmaMemory}, so a transport with a device of its own (the NVMe-oF
 * RDMA host) moves their data without copying. All state but the published counters is touched only on the job's
 * thread (rule R1).
 */
final class Job {
    /** Longest latency the histogram tells apart (longer ones are recorded as this): 100 s. */
    static final long MAX_LATENCY_NANOS = 100_000_000_000L;
    /** How often a reset workload resets the bdev (SPDK: every 10 s); shorter runs reset once, half-way. */
    static final long RESET_PERIOD_NANOS = 10_000_000_000L;

    /** The single completion callback of every job (non-capturing: the task travels as the argument). */
    private static final BdevIoCallback DONE = (io, ok, arg) -> {
        Task t = (Task) arg;
        t.job.completed(t, io, ok);
    };

    private static final VarHandle COMPLETED;
    private static final VarHandle FAILED;
    private static final VarHandle TIMED_OUT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            COMPLETED = l.findVarHandle(Job.class, "completed", long.class);
            FAILED = l.findVarHandle(Job.class, "failed", long.class);
            TIMED_OUT = l.findVarHandle(Job.class, "timedOut", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What a task is doing now. */
    enum Op { READ, WRITE, VERIFY_READ, UNMAP, FLUSH, WRITE_ZEROES, RESET }

    /** One I/O slot of the queue depth, with its buffers; it is also its own place in the bdev_io wait queue. */
    static final class Task extends BdevIoWaiter {
        final Job job;
        /** Data written (the pattern, for verify) or read into. */
        final MemorySegment buf;
        /** Verify: where the read-back lands, compared with {@link #buf}. */
        final MemorySegment readBuf;
        Op op;
        long ioIndex;
        long offsetBlocks;
        long submitNanos;
        boolean active;
        boolean timedOut;

        Task(Job job, MemorySegment buf, MemorySegment readBuf) {
            this.job = job;
            this.buf = buf;
            this.readBuf = readBuf;
        }

        @Override
        public void ioAvailable() {
            job.submit(this); // the same I/O again, whether or not the run is draining
        }
    }

    // ---- what the job is (fixed at construction) ----
    final int index;
    final String bdevName;
    final int core;
    final Workload workload;
    final int queueDepth;
    final int ioSize;
    final int blockSize;
    final long ioBlocks;
    final long iosBase;
    final long sizeInIos;
    final int readPercent;
    final long seed;
    private final boolean continueOnFailure;
    private final long runNanos;
    private final long timeoutNanos;
    private final BdevLayer layer;
    private final Run run;
    private final NativeArena arena = new NativeArena();
    /** The tasks' buffers, one range in {@link DmaMemory} (null without data), as SPDK's bdevperf uses DMA memory. */
    private final DmaMemory.Range buffers;
    private final Task[] tasks;
    private final Task resetTask;
    private final long[] outstanding;
    final Histogram histogram = new Histogram(1, MAX_LATENCY_NANOS, 3);
    private final PollerFn runTimerFn = this::runTimerFired;
    private final PollerFn resetTimerFn = this::resetTimerFired;
    private final PollerFn timeoutFn = this::checkTimeouts;

    // ---- the job's thread only ----
    private KeelThread thread;
    private Clock clock;
    private BdevDesc desc;
    private IoChannel<BdevChannel> channel;
    private BdevChannel ch;
    private Poller runTimer;
    private Poller resetTimer;
    private Poller timeoutPoller;
    private long rng;
    private long nextIo;
    private long generation;
    private int active;
    private boolean started;
    private boolean draining;
    private boolean ended;
    private boolean removed;
    long startNanos;
    long endNanos;
    long resets;
    long miscompares;
    long nomemWaits;
    boolean terminated;

    // ---- published (written by the job's thread, read by anyone) ----
    @SuppressWarnings("unused") private long completed;
    @SuppressWarnings("unused") private long failed;
    @SuppressWarnings("unused") private long timedOut;

    final CompletableFuture<Void> ready = new CompletableFuture<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Job(int index, Bdev bdev, int core, long iosBase, long sizeInIos, int queueDepth, BdevperfOptions o,
            BdevLayer layer, Run run) {
        this.index = index;
        this.bdevName = bdev.name();
        this.core = core;
        this.workload = o.workload();
        this.ioSize = o.ioSize();
        this.blockSize = bdev.blockSize();
        this.ioBlocks = o.ioSize() / bdev.blockSize();
        this.iosBase = iosBase;
        this.sizeInIos = sizeInIos;
        this.queueDepth = queueDepth;
        this.readPercent = o.workload().mixed() ? o.readPercent() : o.workload().readOnly() ? 100 : 0;
        this.seed = splitmix(o.seed() + 0x9E3779B97F4A7C15L * (index + 1));
        this.rng = seed == 0 ? 1 : seed;
        this.continueOnFailure = o.continueOnFailure();
        this.runNanos = Math.max(1, Math.round(o.seconds() * 1e9));
        this.timeoutNanos = Math.round(o.timeoutSeconds() * 1e9);
        this.layer = layer;
        this.run = run;
        boolean data = workload.carriesData();
        boolean verify = workload.verifies();
        this.tasks = new Task[queueDepth];
        long stride = (ioSize + 4095L) & -4096L;
        long perTask = data ? stride * (verify ? 2 : 1) : 0;
        // in transparent huge pages where the kernel has them, as SPDK's bdevperf takes hugepage memory: the
        // kernel copies every byte of data to or from these buffers, and with 4 KiB pages misses the TLB per page
        MemorySegment slab = data ? arena.map(perTask * queueDepth, NativeArena.HUGE_PAGE, true) : null;
        for (int i = 0; i < queueDepth; i++) {
            MemorySegment buf = data ? slab.asSlice(i * perTask, ioSize) : null;
            MemorySegment readBuf = verify ? slab.asSlice(i * perTask + stride, ioSize) : null;
            if (buf != null && !verify) {
                buf.fill((byte) (0xA5 ^ i)); // plain writes carry something other than zeros
            }
            tasks[i] = new Task(this, buf, readBuf);
        }
        this.buffers = data ? DmaMemory.register(slab) : null;
        this.resetTask = workload == Workload.RESET ? new Task(this, null, null) : null;
        this.outstanding = verify ? new long[(int) ((sizeInIos + 63) >>> 6)] : null;
    }

    /** The job's name as reports show it (SPDK names a job by its bdev). */
    String name() {
        return bdevName;
    }

    /** Runs on the job's thread: opens the bdev and takes a channel. */
    void setup(KeelThread t) {
        thread = t;
        clock = t.runtime().clock();
        try {
            desc = layer.open(bdevName, !workload.readOnly(), (event, bdev) -> onEvent(event));
            channel = desc.getIoChannel();
            ch = channel.context();
            ready.complete(null);
        } catch (RuntimeException e) {
            ready.completeExceptionally(e);
            end();
        }
    }

    /** Runs on the job's thread: starts the clock and the first {@code -q} I/Os. */
    void start() {
        if (ended) {
            return;
        }
        started = true;
        startNanos = clock.nanoTime();
        runTimer = thread.registerPoller("bdevperf_run_timer", runTimerFn, Math.max(1, runNanos / 1000));
        if (resetTask != null) {
            long period = runNanos > RESET_PERIOD_NANOS ? RESET_PERIOD_NANOS : Math.max(1000, runNanos / 2);
            resetTimer = thread.registerPoller("bdevperf_reset_timer", resetTimerFn, period / 1000);
        }
        if (timeoutNanos > 0) {
            long period = Math.clamp(timeoutNanos / 4, 1_000_000L, 100_000_000L);
            timeoutPoller = thread.registerPoller("bdevperf_timeouts", timeoutFn, period / 1000);
        }
        if (removed) {
            drain();
            return;
        }
        for (Task t : tasks) {
            if (draining) {
                break;
            }
            t.active = true;
            active++;
            launch(t);
        }
    }

    /** Runs on the job's thread: stops submitting (a signal, or the app shutting down); the job ends once drained. */
    void stop() {
        if (!ended && !draining) {
            terminated = true;
        }
        if (!started) {
            end();
            return;
        }
        drain();
    }

    private void onEvent(BdevEvent event) {
        if (event != BdevEvent.REMOVE) {
            return;
        }
        run.error("bdev " + bdevName + " was removed during the run (job on core " + core + ")");
        removed = true;
        if (started) {
            drain();
        }
    }

    // ---- the I/O loop (allocation-free) ----

    /** Picks the task's next I/O and submits it. */
    private void launch(Task t) {
        long io;
        if (workload.random()) {
            io = Math.unsignedMultiplyHigh(nextRandom(), sizeInIos);
        } else {
            io = nextSequential();
            if (outstanding != null) {
                while (isOutstanding(io)) { // never two I/Os to one range at once (there is always a free one: QD <= range)
                    io = nextSequential();
                }
                setOutstanding(io);
            }
        }
        t.ioIndex = io;
        t.offsetBlocks = (iosBase + io) * ioBlocks;
        switch (workload) {
            case READ, RANDREAD -> t.op = Op.READ;
            case WRITE, RANDWRITE -> t.op = Op.WRITE;
            case RW, RANDRW -> t.op = readPercent == 100
                    || readPercent != 0 && Math.unsignedMultiplyHigh(nextRandom(), 100) < readPercent ? Op.READ : Op.WRITE;
            case VERIFY, RESET -> {
                t.op = Op.WRITE;
                VerifyPattern.fill(t.buf, t.offsetBlocks, ioBlocks, blockSize, ++generation, seed);
            }
            case UNMAP -> t.op = Op.UNMAP;
            case FLUSH -> t.op = Op.FLUSH;
            case WRITE_ZEROES -> t.op = Op.WRITE_ZEROES;
        }
        submit(t);
    }

    /** Submits the task's current I/O; on -ENOMEM waits for a bdev_io with the task's own wait entry. */
    void submit(Task t) {
        t.timedOut = false;
        if (timeoutNanos > 0) {
            t.submitNanos = clock.nanoTime(); // only -k needs it
        }
        int rc = switch (t.op) {
            case READ -> desc.read(ch, t.buf, t.offsetBlocks, ioBlocks, DONE, t);
            case VERIFY_READ -> desc.read(ch, t.readBuf, t.offsetBlocks, ioBlocks, DONE, t);
            case WRITE -> desc.write(ch, t.buf, t.offsetBlocks, ioBlocks, DONE, t);
            case UNMAP -> desc.unmap(ch, t.offsetBlocks, ioBlocks, DONE, t);
            case FLUSH -> desc.flush(ch, t.offsetBlocks, ioBlocks, DONE, t);
            case WRITE_ZEROES -> desc.writeZeroes(ch, t.offsetBlocks, ioBlocks, DONE, t);
            case RESET -> desc.reset(ch, DONE, t);
        };
        if (rc == 0) {
            return;
        }
        if (rc == -Errno.ENOMEM) {
            nomemWaits++;
            ch.queueIoWait(t);
            return;
        }
        FAILED.setOpaque(this, (long) FAILED.getOpaque(this) + 1);
        run.error("bdev " + bdevName + ": cannot submit " + describe(t) + ": " + Errnos.describe(rc));
        drain();
        release(t);
        retire(t);
    }

    private void completed(Task t, BdevIo io, boolean ok) {
        long latency = io.latencyTicks(); // the layer's own measurement: no second clock read per I/O
        BdevIoStatus status = io.status();
        io.free();
        if (t.op == Op.RESET) {
            resetCompleted(t, ok, status);
            return;
        }
        if (!ok) {
            FAILED.setOpaque(this, (long) FAILED.getOpaque(this) + 1);
            run.error("bdev " + bdevName + ": " + describe(t) + " failed with status " + status);
            if (!continueOnFailure) {
                drain();
            }
            release(t);
            next(t);
            return;
        }
        histogram.recordValue(latency < MAX_LATENCY_NANOS ? Math.max(latency, 1) : MAX_LATENCY_NANOS);
        if (t.op == Op.WRITE && outstanding != null) {
            COMPLETED.setOpaque(this, (long) COMPLETED.getOpaque(this) + 1);
            t.op = Op.VERIFY_READ; // read back what was just written (even while draining)
            submit(t);
            return;
        }
        if (t.op == Op.VERIFY_READ) {
            long at = VerifyPattern.mismatch(t.buf, t.readBuf, ioSize);
            if (at >= 0) {
                miscompares++;
                FAILED.setOpaque(this, (long) FAILED.getOpaque(this) + 1);
                run.error("verify FAILED on bdev " + bdevName + " (job on core " + core + "): data read back at "
                        + VerifyPattern.describe(t.buf, t.readBuf, at, t.offsetBlocks, blockSize));
                drain(); // like SPDK, a miscompare always stops the job
                release(t);
                next(t);
                return;
            }
        }
        COMPLETED.setOpaque(this, (long) COMPLETED.getOpaque(this) + 1);
        release(t);
        next(t);
    }

    private void resetCompleted(Task t, boolean ok, BdevIoStatus status) {
        if (ok) {
            resets++;
        } else {
            FAILED.setOpaque(this, (long) FAILED.getOpaque(this) + 1);
            run.error("bdev " + bdevName + ": reset failed with status " + status);
            drain();
        }
        retire(t);
    }

    private void next(Task t) {
        if (draining) {
            retire(t);
        } else {
            launch(t);
        }
    }

    /** The task is done for this run. */
    private void retire(Task t) {
        t.active = false;
        active--;
        if (draining && active == 0) {
            end();
        }
    }

    /** Frees the task's range for another I/O (verify). */
    private void release(Task t) {
        if (outstanding != null && t.op != Op.RESET) {
            outstanding[(int) (t.ioIndex >>> 6)] &= ~(1L << t.ioIndex);
        }
    }

    private boolean isOutstanding(long io) {
        return (outstanding[(int) (io >>> 6)] & (1L << io)) != 0;
    }

    private void setOutstanding(long io) {
        outstanding[(int) (io >>> 6)] |= 1L << io;
    }

    private long nextSequential() {
        long io = nextIo;
        if (++nextIo == sizeInIos) {
            nextIo = 0;
        }
        return io;
    }

    /** xorshift64*: fast, allocation-free, and the same sequence for the same seed. */
    private long nextRandom() {
        long x = rng;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        rng = x;
        return x * 0x2545F4914F6CDD1DL;
    }

    // ---- timers ----

    private int runTimerFired() {
        drain();
        return PollerFn.BUSY;
    }

    private int resetTimerFired() {
        if (!draining && !resetTask.active) {
            resetTask.active = true;
            active++;
            resetTask.op = Op.RESET;
            submit(resetTask);
        }
        return PollerFn.BUSY;
    }

    private int checkTimeouts() {
        long now = clock.nanoTime();
        int found = 0;
        for (Task t : tasks) {
            found += checkTimeout(t, now);
        }
        if (resetTask != null) {
            found += checkTimeout(resetTask, now);
        }
        return found > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    private int checkTimeout(Task t, long now) {
        if (t.active && !t.timedOut && now - t.submitNanos > timeoutNanos) {
            t.timedOut = true;
            TIMED_OUT.setOpaque(this, (long) TIMED_OUT.getOpaque(this) + 1);
            return 1;
        }
        return 0;
    }

    // ---- the end ----

    /** Stops submitting; the job ends when its last I/O completes. */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        if (runTimer != null) {
            runTimer.unregister();
        }
        if (resetTimer != null) {
            resetTimer.unregister();
        }
        if (active == 0) {
            end();
        }
    }

    /** Releases the channel and the descriptor on this thread, then lets the thread exit; {@link #done} follows. */
    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        endNanos = clock.nanoTime();
        for (Poller p : new Poller[] {runTimer, resetTimer, timeoutPoller}) {
            if (p != null) {
                p.unregister();
            }
        }
        try {
            if (channel != null) {
                channel.put();
                channel = null;
            }
            if (desc != null) {
                desc.close();
            }
        } finally {
            thread.exit(() -> done.complete(null));
        }
    }

    /** Frees the buffers; only once the job is done (no I/O can touch them any more). */
    void freeBuffers() {
        if (buffers != null) {
            DmaMemory.unregister(buffers);
        }
        arena.close();
    }

    // ---- published counters ----

    long completedCount() {
        return (long) COMPLETED.getOpaque(this);
    }

    long failedCount() {
        return (long) FAILED.getOpaque(this);
    }

    long timedOutCount() {
        return (long) TIMED_OUT.getOpaque(this);
    }

    private String describe(Task t) {
        String what = switch (t.op) {
            case READ, VERIFY_READ -> "read";
            case WRITE -> "write";
            case UNMAP -> "unmap";
            case FLUSH -> "flush";
            case WRITE_ZEROES -> "write_zeroes";
            case RESET -> "reset";
        };
        if (t.op == Op.RESET) {
            return what;
        }
        return what + " of " + ioBlocks + " block(s) at LBA " + t.offsetBlocks + " (byte offset "
                + t.offsetBlocks * blockSize + ")";
    }

    private static long splitmix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
