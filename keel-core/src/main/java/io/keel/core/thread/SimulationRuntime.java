package io.keel.core.thread;

import io.keel.core.time.SimulatedClock;
import java.nio.channels.SelectableChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deterministic runtime (rule R9): every lightweight thread runs on the calling OS thread, one action at
 * a time — deliver one sender's next message to one thread, or run one poller — chosen by a generator seeded
 * with {@link #seed()}. Time is simulated: each action costs a few simulated microseconds at most, and when
 * nothing is runnable the clock jumps to the next timer. The same seed gives the same run, action for
 * action, which {@link #fingerprint()} and {@link #trace()} let a test check.
 *
 * <p>Raw fd watches ({@link KeelThread#watchFd}) are actions too: before each step every watched fd is asked whether
 * it is ready, without waiting ({@link SimulatedFdWatches}), and a ready one may be picked to run its handler. The rule
 * that keeps this deterministic: every writer to a watched fd (an eventfd's writer, a socket's peer end) runs inside
 * the simulation too, so an fd becomes ready only in a step the seed chose. Watches that are not ready are not work:
 * the clock still jumps to the next timer, and a system with nothing else to do is quiescent. Channel watches
 * ({@link KeelThread#watch}) are refused.
 */
public final class SimulationRuntime extends ThreadRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(SimulationRuntime.class);
    private static final long MAX_STEP_COST_NANOS = 2_000;

    private final long seed;
    private final SplittableRandom random;
    private final SimulatedClock clock;
    private final boolean recordTrace;
    private final List<String> trace = new ArrayList<>();
    private final SimulatedFdWatches fdWatches = new SimulatedFdWatches();
    private final List<SimulatedFdWatches.Watch> closedUnder = new ArrayList<>();
    private long fingerprint = 0xcbf29ce484222325L; // FNV-1a offset basis
    private long steps;
    private Throwable failure;
    private String failureWhere;

    private SimulationRuntime(long seed, CpuMask cores, SimulatedClock clock, boolean recordTrace) {
        super(clock, cores);
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.clock = clock;
        this.recordTrace = recordTrace;
    }

    /** A simulation of {@code cores.count()} cores, seeded with {@code seed}. */
    public static SimulationRuntime create(long seed, CpuMask cores) {
        return new SimulationRuntime(seed, cores, new SimulatedClock(1_000_000_000L), false);
    }

    /** As {@link #create}, also keeping a readable trace of every action. */
    public static SimulationRuntime createTraced(long seed, CpuMask cores) {
        return new SimulationRuntime(seed, cores, new SimulatedClock(1_000_000_000L), true);
    }

    public long seed() {
        return seed;
    }

    public long steps() {
        return steps;
    }

    /** A hash of every action taken so far; equal for equal runs. */
    public long fingerprint() {
        return fingerprint;
    }

    /** The actions taken, one line each (only when created traced). */
    public List<String> trace() {
        return List.copyOf(trace);
    }

    /** The simulation's own random source, for scenarios that need seeded choices (e.g. fault injection). */
    public SplittableRandom random() {
        return random;
    }

    public SimulatedClock simulatedClock() {
        return clock;
    }

    private sealed interface Action permits Deliver, RunPoller, RunFdHandler {
    }

    private record Deliver(KeelThread thread, long lane) implements Action {
    }

    private record RunPoller(KeelThread thread, Poller poller) implements Action {
    }

    private record RunFdHandler(SimulatedFdWatches.Watch watch, int ready) implements Action {
    }

    /**
     * Takes one action. Returns false when the system is quiescent: no message waiting, no timer pending,
     * every active poller found nothing to do on its last run, and no watched fd is ready.
     */
    public boolean step() {
        return step(Long.MAX_VALUE);
    }

    /** As {@link #step()}, but an idle jump of the clock stops at {@code horizon} rather than pass it. */
    private boolean step(long horizon) {
        List<Action> runnable = new ArrayList<>();
        boolean busyCandidate = false;
        long now = clock.nanoTime();
        for (KeelThread t : threads()) {
            LaneInbox inbox = (LaneInbox) t.inbox();
            for (long lane : inbox.nonEmptyLanes()) {
                runnable.add(new Deliver(t, lane));
                busyCandidate = true;
            }
            for (Poller p : t.activePollerList()) {
                if (p.state == Poller.State.WAITING) {
                    runnable.add(new RunPoller(t, p));
                    busyCandidate |= !p.lastRunIdle || p.runCount() == 0;
                }
            }
            for (Poller p : t.timedPollerList()) {
                if (p.state == Poller.State.WAITING && p.nextRunNanos <= now) {
                    runnable.add(new RunPoller(t, p));
                    busyCandidate = true;
                }
            }
        }
        for (SimulatedFdWatches.Watch w : readyFdWatches()) {
            runnable.add(new RunFdHandler(w, w.ready));
            busyCandidate = true;
        }
        if (!busyCandidate) {
            long next = nextTimer();
            if (next == Long.MAX_VALUE) {
                return false;
            }
            next = Math.min(next, Math.max(horizon, now));
            clock.advanceTo(next);
            record("time " + next);
            finishExits(); // the clock may have jumped to an exiting thread's bound: nothing else would end it
            throwIfFailed();
            return true;
        }
        Action a = runnable.get(random.nextInt(runnable.size()));
        long cost = 1 + random.nextLong(MAX_STEP_COST_NANOS);
        perform(a, now, cost);
        clock.advance(cost);
        steps++;
        finishExits();
        throwIfFailed();
        return true;
    }

    /** The watches whose fd is ready now; one whose fd was closed under it fails the run. */
    private List<SimulatedFdWatches.Watch> readyFdWatches() {
        closedUnder.clear();
        List<SimulatedFdWatches.Watch> ready = fdWatches.poll(closedUnder);
        for (SimulatedFdWatches.Watch w : closedUnder) {
            w.cancel();
            failure(w.owner, w + " was closed before its watch was cancelled",
                    new IllegalStateException("cancel an fd watch before closing its fd"));
        }
        throwIfFailed();
        return ready;
    }

    private void throwIfFailed() {
        if (failure != null) {
            Throwable f = failure;
            failure = null;
            throw new SimulationFailure(seed, steps, failureWhere, f);
        }
    }

    private void perform(Action a, long now, long cost) {
        switch (a) {
            case Deliver d -> {
                record("t" + d.thread().id() + " <- " + (d.lane() == LaneInbox.EXTERNAL ? "ext" : "t" + d.lane()));
                KeelThread previous = KeelThread.setCurrent(d.thread());
                d.thread().startUnitOfWork();
                try {
                    ((LaneInbox) d.thread().inbox()).deliverFrom(d.lane(), d.thread());
                } finally {
                    KeelThread.setCurrent(previous);
                }
                d.thread().account(1, cost);
                mayHaveWork(d.thread(), null);
            }
            case RunPoller r -> {
                record("t" + r.thread().id() + " poll " + r.poller().name());
                KeelThread previous = KeelThread.setCurrent(r.thread());
                int work;
                try {
                    work = r.thread().runPoller(r.poller(), now);
                    r.thread().afterSimulatedPoll();
                } finally {
                    KeelThread.setCurrent(previous);
                }
                r.thread().account(work, cost);
                if (work > 0) {
                    mayHaveWork(r.thread(), r.poller());
                }
            }
            case RunFdHandler f -> {
                KeelThread owner = f.watch().owner;
                record("t" + owner.id() + " fd #" + f.watch().id + " ready " + f.ready());
                if (owner.state() == KeelThread.State.EXITED) {
                    LOG.warn("thread {} exited without cancelling its {}: cancelled now", owner.name(), f.watch());
                    f.watch().cancel();
                    return;
                }
                int work = owner.runFdHandler(f.watch().handler, f.ready());
                owner.account(work, cost);
                mayHaveWork(owner, null);
            }
        }
    }

    /**
     * Something ran on {@code t} and may have given its active pollers work (a message queued a request, a
     * poller completed one): they are no longer known to be idle, so quiescence waits until they run again.
     */
    private static void mayHaveWork(KeelThread t, Poller except) {
        for (Poller p : t.activePollerList()) {
            if (p != except) {
                p.lastRunIdle = false;
            }
        }
    }

    private long nextTimer() {
        long next = Long.MAX_VALUE;
        for (KeelThread t : threads()) {
            for (Poller p : t.timedPollerList()) {
                if (p.state == Poller.State.WAITING) {
                    next = Math.min(next, p.nextRunNanos);
                }
            }
            if (t.state() == KeelThread.State.EXITING) {
                next = Math.min(next, t.exitDeadline());
            }
        }
        return next;
    }

    private void finishExits() {
        for (KeelThread t : threads()) {
            if (t.state() == KeelThread.State.EXITING) {
                t.finishExitIfDrained(clock.nanoTime());
            }
        }
    }

    private void record(String action) {
        for (int i = 0; i < action.length(); i++) {
            fingerprint = (fingerprint ^ action.charAt(i)) * 0x100000001b3L;
        }
        fingerprint = (fingerprint ^ '\n') * 0x100000001b3L;
        if (recordTrace) {
            trace.add(clock.nanoTime() + " " + action);
        }
    }

    /** Runs until quiescent; fails if that takes more than {@code maxSteps}. Returns the steps taken. */
    public long runUntilIdle(long maxSteps) {
        long start = steps;
        while (step()) {
            if (steps - start > maxSteps) {
                throw new SimulationFailure(seed, steps, "still busy after " + maxSteps + " steps", null);
            }
        }
        return steps - start;
    }

    /** Runs until {@code done} holds; fails if it does not within {@code maxSteps} or the system goes quiet first. */
    public void runUntil(BooleanSupplier done, long maxSteps) {
        long start = steps;
        while (!done.getAsBoolean()) {
            if (!step()) {
                throw new SimulationFailure(seed, steps, "quiescent before the condition held", null);
            }
            if (steps - start > maxSteps) {
                throw new SimulationFailure(seed, steps, "condition not reached within " + maxSteps + " steps", null);
            }
        }
    }

    /** Runs for {@code nanos} of simulated time. */
    public void runFor(long nanos) {
        long end = clock.nanoTime() + nanos;
        while (clock.nanoTime() < end) {
            if (!step(end)) {
                clock.advanceTo(end);
            }
        }
    }

    @Override
    protected Inbox newInbox() {
        return new LaneInbox();
    }

    @Override
    protected void place(KeelThread t) {
        t.placement(t.cpumask().first());
    }

    @Override
    protected void messageQueued(KeelThread t) {
        // the next step sees it
    }

    @Override
    protected FdWatch watch(KeelThread owner, SelectableChannel channel, int ops, FdHandler handler) {
        throw new IllegalStateException("channel watches are outside the simulation (thread " + owner.name()
                + "): only raw fds (watchFd) run under it");
    }

    @Override
    protected FdWatch watchFd(KeelThread owner, int fd, int events, FdHandler handler) {
        return fdWatches.add(owner, fd, events, handler);
    }

    @Override
    protected void failure(KeelThread t, String what, Throwable e) {
        if (failure == null) {
            failure = e;
            failureWhere = what + " on thread " + t.name();
        }
    }

    /** A simulated run went wrong; the message names the seed that replays it. */
    public static final class SimulationFailure extends RuntimeException {
        private final long seed;

        SimulationFailure(long seed, long step, String where, Throwable cause) {
            super("simulation seed " + seed + " failed at step " + step + ": " + where
                    + " (replay with -Dkeel.sim.seed=" + seed + ")", cause);
            this.seed = seed;
        }

        public long seed() {
            return seed;
        }
    }
}
