package io.keel.core.reactor;

import io.keel.core.sys.OsThreads;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.channels.SelectableChannel;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OS thread on one core, running its lightweight threads in turn: their messages, pollers and ready
 * file descriptors. In poll mode it never sleeps; in interrupt mode it sleeps when an iteration found no
 * work, until a message, the next timer or a watched fd wakes it. Every watched fd, NIO channel or raw, is in one
 * epoll set ({@link FdSet}) read with one {@code epoll_wait} per look, without NIO's selector and its locks.
 */
public final class Reactor {
    private static final Logger LOG = LoggerFactory.getLogger(Reactor.class);
    private static final VarHandle ITERATION_START;
    private static final VarHandle POLLING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ITERATION_START = l.findVarHandle(Reactor.class, "iterationStart", long.class);
            POLLING = l.findVarHandle(Reactor.class, "polling", KeelThread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /**
     * While its fds are quiet, a running reactor asks the kernel about them at most this often: an
     * epoll_wait on every iteration costs more than the iteration itself (measured in ReactorBench: a quiet
     * watched fd cut the loop rate 4x). Once an fd is ready it is asked on every iteration until its fds have
     * been quiet for {@link #FD_HOT_NANOS}: a connection with one request in flight (replies every ~10 µs) must
     * not wait up to the quiet period for each one.
     */
    private static final long QUIET_FD_CHECK_NANOS = 20_000;
    /** The quiet period when every watched fd is {@link FdWatch#relaxed} (control traffic only). */
    private static final long RELAXED_FD_CHECK_NANOS = 1_000_000;
    private static final long FD_HOT_NANOS = 1_000_000;
    /**
     * An idle reactor reads the clock on one iteration in this many: a read costs ~30 ns on a VM, a third of an idle
     * iteration, and an idle iteration's length is how long new work waits to be seen. An iteration after one whose
     * last poll did work starts from the clock read after that poll. Timers, the watchdog and the accounting see a
     * start up to three idle iterations old.
     */
    private static final int IDLE_CLOCK_EVERY = 4;

    private final int core;
    private final ReactorRuntime runtime;
    private final Clock clock;
    private final boolean interruptMode;
    private final boolean pin;
    private final KeelThread.Carrier osThread;
    private final FdSet fds = new FdSet();
    private final ConcurrentLinkedQueue<KeelThread> incoming = new ConcurrentLinkedQueue<>();

    /** The threads this reactor runs; replaced (never mutated) so stats can read it from other OS threads. */
    private volatile KeelThread[] threads = new KeelThread[0];
    private volatile boolean running = true;
    private volatile boolean sleeping;
    /**
     * Start of the iteration in progress, 0 while sleeping; read by the watchdog. Written with release (not volatile)
     * semantics through {@link #ITERATION_START}, like {@link #polling}: a volatile store's full fence on every
     * iteration and every thread's poll would be the loop's most expensive instruction.
     */
    private long iterationStart;
    /** The lightweight thread being polled (for the watchdog's report). */
    private KeelThread polling;
    /**
     * Time is read once per iteration, and once more after each poll that did work: on a VM a clock read costs as
     * much as an idle iteration's polls. An iteration's length is accounted at the next one's start ({@link
     * #accountLastIteration}); the part no busy poll took is shared by the threads whose polls found nothing.
     */
    private long lastIterationStart;
    private int idleWithoutClock;
    private int lastIterationWork;
    private long lastBusyPollEnd;
    /** Whether a thread's poll found nothing after the last one that did work, in this iteration (its time is
     * measured by the next iteration's clock read, which is then not skipped). */
    private boolean idlePollAfterWork;
    private int idlePolls;
    private volatile int tid = -1;
    private long busyNanos;
    private long idleNanos;
    private long iterations;
    private long nextFdCheck;
    private long lastFdReady = Long.MIN_VALUE / 2;

    Reactor(int core, ReactorRuntime runtime, boolean interruptMode, boolean pin) {
        this.core = core;
        this.runtime = runtime;
        this.clock = runtime.clock();
        this.interruptMode = interruptMode;
        this.pin = pin;
        this.osThread = new KeelThread.Carrier(this::run, "reactor_" + core);
    }

    void start() {
        osThread.start();
    }

    void adopt(KeelThread t) {
        incoming.add(t);
        wake();
    }

    /** Wakes the reactor if it is sleeping. Any OS thread. */
    void wake() {
        if (sleeping) {
            fds.wake();
        }
    }

    void stop() {
        running = false;
        fds.wake();
    }

    boolean join(long timeoutMillis) throws InterruptedException {
        osThread.join(timeoutMillis);
        return !osThread.isAlive();
    }

    private void run() {
        tid = OsThreads.currentTid();
        if (pin && !OsThreads.pinCurrentThread(core)) {
            LOG.warn("reactor_{}: could not pin to core {}", core, core);
        }
        LOG.debug("reactor_{} started ({} mode)", core, interruptMode ? "interrupt" : "poll");
        try {
            while (running) {
                iterate();
            }
        } catch (Throwable e) {
            LOG.error("reactor_{} died", core, e);
            runtime.reactorDied(this, e);
        } finally {
            ITERATION_START.setRelease(this, 0L);
            fds.close();
        }
    }

    private void iterate() {
        adoptIncoming();
        long start;
        if (lastIterationWork > 0 && lastIterationStart != 0 && !idlePollAfterWork) {
            start = lastBusyPollEnd; // the clock read after the last iteration's work, which ended it
            idleWithoutClock = 0;
        } else if (lastIterationWork == 0 && lastIterationStart != 0 && ++idleWithoutClock < IDLE_CLOCK_EVERY) {
            start = lastIterationStart; // accounted together with the next iteration that reads the clock
        } else {
            idleWithoutClock = 0;
            start = clock.nanoTime();
        }
        accountLastIteration(start);
        ITERATION_START.setRelease(this, start);
        int work = 0;
        long mark = start;
        KeelThread[] ts = threads;
        boolean anyExited = false;
        for (KeelThread t : ts) {
            POLLING.setRelease(this, t);
            int w = t.poll(mark);
            if (w > 0) {
                long end = clock.nanoTime();
                t.account(w, end - mark);
                mark = end;
                work += w;
                idlePollAfterWork = false;
            } else {
                t.idlePolled();
                idlePolls++;
                idlePollAfterWork = true;
            }
            anyExited |= t.state() == KeelThread.State.EXITED;
        }
        POLLING.setRelease(this, (KeelThread) null);
        if (anyExited) {
            dropExited();
        }
        if (start >= nextFdCheck && fds.watched() > 0) {
            int n = fds.poll(0);
            if (n > 0) {
                work += Math.max(dispatchReadyFds(n), 1);
                lastFdReady = start;
                mark = clock.nanoTime(); // the handlers accounted their own time
                idlePollAfterWork = false;
            } else if (start - lastFdReady > FD_HOT_NANOS) {
                nextFdCheck = start + (fds.urgentWatched() > 0 ? QUIET_FD_CHECK_NANOS : RELAXED_FD_CHECK_NANOS);
            }
        }
        iterations++;
        lastIterationStart = start;
        lastIterationWork = work;
        lastBusyPollEnd = mark;
        if (work == 0 && interruptMode) {
            long end = clock.nanoTime();
            accountLastIteration(end);
            sleep(end);
        }
    }

    /** Accounts the last iteration, which ended at {@code end}, to the reactor and to its threads' idle polls. */
    private void accountLastIteration(long end) {
        if (lastIterationStart == 0) {
            return; // the first iteration, or one accounted before a sleep (which accounts itself)
        }
        long elapsed = end - lastIterationStart;
        if (lastIterationWork > 0) {
            busyNanos += elapsed;
        } else {
            idleNanos += elapsed;
        }
        if (idlePolls > 0) {
            long share = (end - lastBusyPollEnd) / idlePolls;
            for (KeelThread t : threads) {
                t.accountIdlePoll(share);
            }
            idlePolls = 0;
        }
        lastIterationStart = 0;
    }

    private void adoptIncoming() {
        KeelThread t;
        while ((t = incoming.poll()) != null) {
            KeelThread[] ts = Arrays.copyOf(threads, threads.length + 1);
            ts[ts.length - 1] = t;
            threads = ts;
        }
    }

    private void dropExited() {
        threads = Arrays.stream(threads).filter(t -> t.state() != KeelThread.State.EXITED).toArray(KeelThread[]::new);
    }

    private void sleep(long now) {
        long deadline = Long.MAX_VALUE;
        for (KeelThread t : threads) {
            deadline = Math.min(deadline, t.nextDeadline(now));
        }
        if (deadline <= now) {
            return;
        }
        sleeping = true;
        try {
            if (!running || !incoming.isEmpty() || anyMessages()) {
                return; // arrived between the iteration and announcing sleep
            }
            ITERATION_START.setRelease(this, 0L);
            // with nanosecond timeouts (epoll_pwait2): a timer due in 50 us neither spins nor sleeps blind to the fds
            int n = fds.poll(deadline == Long.MAX_VALUE ? -1 : deadline - now);
            if (n > 0) {
                // woken by an fd: the watchdog times the work from here
                ITERATION_START.setRelease(this, clock.nanoTime());
                dispatchReadyFds(n);
            }
        } finally {
            sleeping = false;
        }
        long woke = clock.nanoTime();
        idleNanos += woke - now;
    }

    private boolean anyMessages() {
        for (KeelThread t : threads) {
            if (t.hasMessages()) {
                return true;
            }
        }
        return false;
    }

    /** Runs the handlers of the {@code n} events the last look found: the work they did. */
    private int dispatchReadyFds(int n) {
        int work = 0;
        for (int i = 0; i < n; i++) {
            FdSet.Watch w = fds.ready(i);
            if (w != null) {
                work += runFdHandler(w.owner, w, w.handler, fds.readyOps(w, i));
            }
        }
        return work;
    }

    /** Runs a ready watch's handler on its thread; a watch its thread left behind when exiting is reported and ended. */
    private int runFdHandler(KeelThread owner, FdWatch watch, FdHandler handler, int readyOps) {
        if (owner.state() == KeelThread.State.EXITED) {
            LOG.warn("thread {} exited without cancelling its watch on {}: cancelled now", owner.name(), watch);
            watch.cancel();
            return 0;
        }
        POLLING.setRelease(this, owner);
        int work = owner.runFdHandler(handler, readyOps);
        POLLING.setRelease(this, (KeelThread) null);
        return work;
    }

    FdWatch watch(KeelThread owner, SelectableChannel channel, int ops, FdHandler handler) {
        if (Thread.currentThread() != osThread) {
            throw new IllegalStateException("watch() must run on reactor_" + core);
        }
        nextFdCheck = 0; // a new fd may be urgent: look at once, not at the end of a relaxed period
        return fds.add(owner, channel, ops, handler);
    }

    FdWatch watchFd(KeelThread owner, int fd, int events, FdHandler handler) {
        if (Thread.currentThread() != osThread) {
            throw new IllegalStateException("watchFd() must run on reactor_" + core);
        }
        nextFdCheck = 0;
        return fds.add(owner, fd, events, handler);
    }

    /** How often the reactor has asked the kernel about its fds (epoll_wait calls); for tests (a snapshot). */
    long fdLooks() {
        return fds.looks();
    }

    /** Fds watched now, channels and raw; for tests (reactor thread). */
    int watchedFds() {
        return fds.watched();
    }

    // ---- introspection (any OS thread; values are snapshots) ----

    public int core() {
        return core;
    }

    /** Bytes the reactor's OS thread has allocated on the heap so far (the hot path should add none). */
    public long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean m) {
            return m.getThreadAllocatedBytes(osThread.threadId());
        }
        return -1;
    }

    public int tid() {
        return tid;
    }

    public boolean interruptMode() {
        return interruptMode;
    }

    public long busyNanos() {
        return busyNanos;
    }

    public long idleNanos() {
        return idleNanos;
    }

    public long iterations() {
        return iterations;
    }

    public KeelThread[] threads() {
        return threads;
    }

    int threadCount() {
        return threads.length + incoming.size();
    }

    long iterationStart() {
        return (long) ITERATION_START.getAcquire(this);
    }

    KeelThread polling() {
        return (KeelThread) POLLING.getAcquire(this);
    }

    Thread osThread() {
        return osThread;
    }
}
