package io.keel.core.thread;

import java.nio.channels.SelectableChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lightweight thread (SPDK's {@code spdk_thread}): a message inbox, pollers and io_channels, run by
 * one reactor at a time. Everything it owns is touched only while it runs (rule R1); anyone else sends
 * it a message.
 */
public final class KeelThread {
    /** Lifecycle: RUNNING until {@link #exit}, EXITING while it drains, EXITED once its exit callback ran. */
    public enum State { RUNNING, EXITING, EXITED }

    private static final Logger LOG = LoggerFactory.getLogger(KeelThread.class);
    private static final ThreadLocal<KeelThread> CURRENT_OFF_CARRIER = new ThreadLocal<>();
    private static final MessageFn<Runnable> RUN_RUNNABLE = Runnable::run;
    /** Messages run per poll before pollers get their turn, so a flood cannot starve pollers. */
    static final int MESSAGE_BATCH = 64;
    /** How long an exiting thread waits for its messages and channels before it exits anyway. */
    static final long EXIT_TIMEOUT_NANOS = 5_000_000_000L;
    /** A channel still releasing after this long is reported (once) with what its context still holds. */
    public static final long RELEASE_REPORT_NANOS = 5_000_000_000L;

    private final ThreadRuntime runtime;
    private final String name;
    private final long id;
    private final CpuMask cpumask;
    private final Inbox inbox;
    private final long createdNanos;

    private final ArrayList<Poller> activePollers = new ArrayList<>();
    private final ArrayList<Poller> timedPollers = new ArrayList<>();
    private final ArrayList<Poller> pausedPollers = new ArrayList<>();
    private long nextTimedDeadline = Long.MAX_VALUE;
    private boolean pollerListsDirty;
    private long nextPollerId = 1;

    /** In the order they were taken, so listings and walks over them replay alike (rule R9). */
    private final Map<IoDevice<?>, IoChannel<?>> channels = new LinkedHashMap<>();
    /** Channels whose last reference is gone and whose device is still releasing the context. */
    private final ArrayList<IoChannel<?>> releasing = new ArrayList<>();
    /** Reports releases that take longer than {@link #RELEASE_REPORT_NANOS}; registered only while any runs. */
    private Poller releaseWatch;
    /** The channel whose context is being created now: pollers registered meanwhile belong to it. */
    private IoChannel<?> creating;

    private volatile State state = State.RUNNING;
    /** Where the runtime placed this thread (a reactor); opaque to everything but the runtime. */
    private volatile Object placement;
    private final List<Runnable> exitCallbacks = new ArrayList<>(1);
    private long exitDeadline;

    private long busyNanos;
    private long idleNanos;
    private boolean idlePollPending;
    /** The clock when the poller now running was started; see {@link #pollerNanos}. */
    private long pollerNanos;
    /** The clock read for the unit of work now running, or {@link #NOT_READ}; see {@link #workNanos}. */
    private long workNanos = NOT_READ;
    private static final long NOT_READ = Long.MIN_VALUE;
    private long messagesRun;

    KeelThread(ThreadRuntime runtime, String name, long id, CpuMask cpumask, Inbox inbox) {
        this.runtime = runtime;
        this.name = name;
        this.id = id;
        this.cpumask = cpumask;
        this.inbox = inbox;
        inbox.bind(this);
        this.createdNanos = runtime.clock().nanoTime();
    }

    /** The lightweight thread running on the calling OS thread, or null outside the framework. */
    public static KeelThread current() {
        return Thread.currentThread() instanceof Carrier c ? c.current : CURRENT_OFF_CARRIER.get();
    }

    /** Makes {@code t} the current thread of the calling OS thread; returns the previous one. */
    static KeelThread setCurrent(KeelThread t) {
        if (Thread.currentThread() instanceof Carrier c) {
            KeelThread previous = c.current;
            c.current = t;
            return previous;
        }
        KeelThread previous = CURRENT_OFF_CARRIER.get();
        CURRENT_OFF_CARRIER.set(t);
        return previous;
    }

    // ---- messages ----

    /**
     * Sends a message to this thread from any OS thread. Returns false (and logs) when the thread has
     * exited, or is at the very end of exiting; the message is then dropped. A message for which this returns
     * true runs (unless the thread is forced out at its exit bound, which is logged as an error).
     */
    public <T> boolean send(MessageFn<T> fn, T arg) {
        if (!offer(fn, arg)) {
            // the sender and the message's class who still addressed a thread that is gone
            KeelThread sender = current();
            LOG.warn("message to exited thread {} dropped (from {}: {})", name,
                    sender != null ? sender.name : Thread.currentThread().getName(),
                    (fn == RUN_RUNNABLE ? arg : fn).getClass().getName());
            return false;
        }
        return true;
    }

    /** Sends a message that needs no argument (allocates when {@code r} captures; fine off the hot path). */
    public boolean send(Runnable r) {
        return send(RUN_RUNNABLE, r);
    }

    /** As {@link #send}, but a thread that has exited refuses quietly: for callers to whom that is an answer. */
    private <T> boolean offer(MessageFn<T> fn, T arg) {
        if (state == State.EXITED || !inbox.offer(current(), fn, arg)) {
            return false;
        }
        runtime.messageQueued(this);
        return true;
    }

    @SuppressWarnings("unchecked")
    void execute(MessageFn<?> fn, Object arg) {
        messagesRun++;
        try {
            ((MessageFn<Object>) fn).run(arg);
        } catch (RuntimeException | AssertionError e) {
            reportFailure("message", e);
        }
    }

    void reportFailure(String what, Throwable e) {
        runtime.failure(this, what, e);
    }

    // ---- pollers ----

    /** Registers an active poller, called on every iteration. Owner thread only. */
    public Poller registerPoller(String pollerName, PollerFn fn) {
        return registerPoller(pollerName, fn, 0);
    }

    /** Registers a poller called every {@code periodMicros} (0: every iteration). Owner thread only. */
    public Poller registerPoller(String pollerName, PollerFn fn, long periodMicros) {
        checkOwner();
        if (state != State.RUNNING) {
            throw new IllegalStateException("thread " + name + " is exiting: cannot register poller " + pollerName);
        }
        Poller p = new Poller(this, pollerName, nextPollerId++, fn, periodMicros * 1000, creating);
        if (p.timed()) {
            p.nextRunNanos = runtime.clock().nanoTime() + p.periodNanos();
            timedPollers.add(p);
            nextTimedDeadline = Math.min(nextTimedDeadline, p.nextRunNanos);
        } else {
            activePollers.add(p);
        }
        runtime.pollerRegistered(this);
        return p;
    }

    void pausePoller(Poller p) {
        p.state = Poller.State.PAUSED;
        pollerListsDirty = true;
    }

    void resumePoller(Poller p) {
        p.state = Poller.State.WAITING;
        if (p.inPausedList) {
            pausedPollers.remove(p);
            p.inPausedList = false;
            (p.timed() ? timedPollers : activePollers).add(p);
        }
        if (p.timed()) {
            p.nextRunNanos = runtime.clock().nanoTime() + p.periodNanos();
            nextTimedDeadline = Math.min(nextTimedDeadline, p.nextRunNanos);
        }
    }

    void unregisterPoller(Poller p) {
        p.state = Poller.State.UNREGISTERED;
        if (p.inPausedList) {
            pausedPollers.remove(p);
            p.inPausedList = false;
        }
        pollerListsDirty = true;
    }

    /** Removes unregistered pollers from the run lists and moves paused ones aside. */
    private void compactPollers() {
        if (!pollerListsDirty) {
            return;
        }
        pollerListsDirty = false;
        compact(activePollers);
        compact(timedPollers);
        nextTimedDeadline = Long.MAX_VALUE;
        for (int i = 0; i < timedPollers.size(); i++) { // indexed: no iterator on the hot path
            nextTimedDeadline = Math.min(nextTimedDeadline, timedPollers.get(i).nextRunNanos);
        }
    }

    private void compact(ArrayList<Poller> list) {
        int kept = 0;
        for (int i = 0; i < list.size(); i++) {
            Poller p = list.get(i);
            if (p.state == Poller.State.WAITING || p.state == Poller.State.RUNNING) {
                list.set(kept++, p);
            } else if (p.state == Poller.State.PAUSED) {
                p.inPausedList = true;
                pausedPollers.add(p);
            }
        }
        for (int i = list.size() - 1; i >= kept; i--) {
            list.remove(i); // from the end: no copying, and unlike subList().clear() no view object per pause
        }
    }

    /** Runs one poller now (a simulation step or part of {@link #poll}); reschedules a timed one. */
    int runPoller(Poller p, long now) {
        pollerNanos = now;
        workNanos = NOT_READ;
        int result = p.run();
        if (p.timed()) {
            p.nextRunNanos = now + p.periodNanos();
        }
        return result;
    }

    /**
     * For a poller: the clock when this round of pollers began (within the iteration), which it may take as now
     * instead of reading the clock itself. Owner thread, inside a poller.
     */
    public long pollerNanos() {
        return pollerNanos;
    }

    /**
     * The clock for the unit of work now running on this thread — one poller's run, one fd handler, one batch of
     * messages — read when first asked and reused after: a poller that submits or completes 32 I/Os reads the
     * clock once, not 32 times (the bdev layer times each I/O's latency this way, so to within the run time of the
     * units that submitted and completed it; at queue depth one that is the I/O alone). A clock read cost ~25 ns
     * here, two per I/O were 10 % of a vhost target's time at 1.9 M IOPS. Owner thread, inside a unit of work.
     */
    public long workNanos() {
        long t = workNanos;
        if (t == NOT_READ) {
            t = runtime.clock().nanoTime();
            workNanos = t;
        }
        return t;
    }

    /** A new unit of work starts on this thread (for the simulation, which runs messages outside {@link #poll}). */
    void startUnitOfWork() {
        workNanos = NOT_READ;
    }

    // ---- one iteration (real reactors) ----

    /**
     * One iteration: a batch of messages, every active poller, every timed poller that is due, and after a round
     * that did work, the messages it sent. Returns the work done (0: idle); the runtime accounts the time.
     *
     * <p>Latency is counted in iterations here: an I/O that a poller submits and a module completes by a message
     * to its own thread ({@code DeferredCompletions}), and whose completion sends another (an NVMe/TCP qpair's
     * flush), would otherwise wait for two more iterations. So a busy round drains the inbox once more (the own
     * messages sent while it drains run in that drain too), and a poller resumed or registered during the round
     * runs in it (the list is read to its end as it grows).
     */
    public int poll(long now) {
        KeelThread previous = setCurrent(this);
        try {
            workNanos = NOT_READ;
            int work = inbox.drain(this, MESSAGE_BATCH);
            for (int i = 0; i < activePollers.size(); i++) {
                Poller p = activePollers.get(i);
                if (p.state == Poller.State.WAITING) {
                    work += runPoller(p, now);
                }
            }
            if (now >= nextTimedDeadline) {
                work += runDueTimedPollers(now);
            }
            compactPollers();
            if (work > 0) {
                workNanos = NOT_READ;
                work += inbox.drain(this, MESSAGE_BATCH);
            }
            if (state == State.EXITING) {
                finishExitIfDrained(now);
            }
            return work; // the runtime accounts the time (Reactor: without a clock read after an idle poll)
        } finally {
            setCurrent(previous);
        }
    }

    private int runDueTimedPollers(long now) {
        int work = 0;
        long next = Long.MAX_VALUE;
        int n = timedPollers.size();
        for (int i = 0; i < n; i++) {
            Poller p = timedPollers.get(i);
            if (p.state == Poller.State.WAITING && p.nextRunNanos <= now) {
                work += runPoller(p, now);
            }
            if (p.state == Poller.State.WAITING) {
                next = Math.min(next, p.nextRunNanos);
            }
        }
        for (int i = n; i < timedPollers.size(); i++) { // registered by a callback during this pass
            next = Math.min(next, timedPollers.get(i).nextRunNanos);
        }
        nextTimedDeadline = next;
        return work;
    }

    /** Housekeeping after the simulation ran one of this thread's pollers on its own. */
    void afterSimulatedPoll() {
        compactPollers();
    }

    long exitDeadline() {
        return exitDeadline;
    }

    /** Accounts {@code elapsed} of this thread's time as busy ({@code work > 0}) or idle. For runtimes. */
    public void account(int work, long elapsed) {
        if (work > 0) {
            busyNanos += elapsed;
        } else {
            idleNanos += elapsed;
        }
    }

    /** A {@link #poll} that found nothing, whose time the runtime accounts later ({@link #accountIdlePoll}). */
    public void idlePolled() {
        idlePollPending = true;
    }

    /** Accounts {@code share} of an iteration as idle if this thread's poll in it found nothing. For runtimes. */
    public void accountIdlePoll(long share) {
        if (idlePollPending) {
            idlePollPending = false;
            idleNanos += share;
        }
    }

    /** When this thread next needs to run without a message: now for active pollers, else its next timer. */
    public long nextDeadline(long now) {
        if (state == State.EXITED || hasRunnableActivePoller()) {
            return now;
        }
        // an exiting thread keeps only the pollers of channels it still holds; its exit bound ends the wait
        return state == State.EXITING ? Math.min(nextTimedDeadline, exitDeadline) : nextTimedDeadline;
    }

    private boolean hasRunnableActivePoller() {
        for (int i = 0; i < activePollers.size(); i++) {
            if (activePollers.get(i).state == Poller.State.WAITING) {
                return true;
            }
        }
        return false;
    }

    /** True when a message is waiting. */
    public boolean hasMessages() {
        return !inbox.isEmpty();
    }

    // ---- exit ----

    /**
     * Asks this thread to exit: its pollers are unregistered at once (except those of io_channels it still
     * holds, which their channel's release unregisters: a channel draining I/O needs its poller), messages
     * already sent (and any that arrive meanwhile) still run, and once its inbox is empty and it holds no
     * io_channel (none live, none releasing) it becomes EXITED and runs {@code onExited} on itself as its last
     * act. Past {@link #EXIT_TIMEOUT_NANOS} it is forced out: an error names what it still held, and those
     * channels are abandoned (never released, so never freed under I/O; their devices' unregisters fail). May be called from any thread and more than
     * once: a call during the exit waits for the same end; a call after it runs {@code onExited} at once.
     */
    public void exit(Runnable onExited) {
        if (current() != this) {
            if (!offer(RUN_RUNNABLE, () -> exit(onExited))) {
                onExited.run(); // already exited (an exit of an exited thread is no mistake): nothing to wait for (R5)
            }
            return;
        }
        switch (state) {
            case EXITING -> exitCallbacks.add(onExited); // a second exit waits for the same end
            case EXITED -> onExited.run();
            case RUNNING -> {
                state = State.EXITING;
                exitCallbacks.add(onExited);
                exitDeadline = runtime.clock().nanoTime() + EXIT_TIMEOUT_NANOS;
                for (Poller p : allPollers()) {
                    if (p.channel() == null || p.channel().destroyed()) {
                        unregisterPoller(p);
                    }
                }
                compactPollers();
                runtime.messageQueued(this); // make sure the reactor looks at us again even if nothing else arrives
            }
        }
    }

    /** Finishes an exit once drained (or past its bound). Returns true if the thread is now EXITED. */
    boolean finishExitIfDrained(long now) {
        // close() refuses later messages atomically with the emptiness check, so none is accepted and then lost
        boolean drained = channels.isEmpty() && releasing.isEmpty() && inbox.close();
        if (!drained && now < exitDeadline) {
            return false;
        }
        if (!drained) {
            int dropped = inbox.forceClose(); // from now on senders are refused, not silently dropped
            LOG.error("thread {} exits after {} ms with {} messages never run and io_channels still held: {}",
                    name, EXIT_TIMEOUT_NANOS / 1_000_000, dropped, channelNames());
            abandonChannels();
        }
        state = State.EXITED;
        workNanos = NOT_READ;
        KeelThread previous = setCurrent(this);
        try {
            for (Runnable cb : exitCallbacks) {
                try {
                    cb.run();
                } catch (RuntimeException | AssertionError e) {
                    reportFailure("exit callback", e);
                }
            }
        } finally {
            setCurrent(previous);
        }
        exitCallbacks.clear();
        runtime.threadExited(this);
        return true;
    }

    // ---- io_channels ----

    /**
     * Returns this thread's channel for {@code device}, creating it on first use (the device's create
     * callback runs here, synchronously). Each call takes a reference; release it with {@link IoChannel#put()}.
     * Returns null if the device is being unregistered. Owner thread only.
     */
    public <C> IoChannel<C> getIoChannel(IoDevice<C> device) {
        checkOwner();
        @SuppressWarnings("unchecked")
        IoChannel<C> ch = (IoChannel<C>) channels.get(device);
        if (ch != null) {
            ch.ref();
            return ch;
        }
        ch = new IoChannel<>(device, this);
        if (!device.tryAddHolder(ch)) {
            LOG.error("io_device {} is unregistering: no new channel on thread {}", device.name(), name);
            return null;
        }
        channels.put(device, ch);
        IoChannel<?> outer = creating;
        creating = ch;
        try {
            ch.create();
        } catch (RuntimeException | Error e) {
            channels.remove(device); // never made: not a holder, nothing to release
            for (Poller p : allPollers()) {
                if (p.channel() == ch) {
                    p.unregister();
                }
            }
            device.channelReleased(ch);
            throw e;
        } finally {
            creating = outer;
        }
        return ch;
    }

    <C> void lastReferencePut(IoChannel<C> ch) {
        send(KeelThread::releaseIfUnused, ch); // deferred as SPDK does, so put-then-get reuses the channel
    }

    private static void releaseIfUnused(IoChannel<?> ch) {
        KeelThread t = ch.thread();
        if (ch.refs() == 0 && !ch.destroyed()) {
            t.channels.remove(ch.device()); // a get from now on makes a new channel, even while this one drains
            t.releasing.add(ch);
            ch.release(t.runtime.clock().nanoTime(), () -> t.releaseFinished(ch));
            if (ch.phase() == IoChannel.Phase.RELEASING) {
                t.watchRelease();
            }
        }
    }

    private void releaseFinished(IoChannel<?> ch) {
        releasing.remove(ch);
        if (releasing.isEmpty() && releaseWatch != null) {
            releaseWatch.unregister();
            releaseWatch = null;
        }
    }

    /** A release that did not finish at once is watched, so one that never ends is reported, not silent. */
    private void watchRelease() {
        if (releaseWatch == null && state == State.RUNNING) { // an exiting thread's exit bound reports it instead
            releaseWatch = registerPoller("io_channel_release_watch", this::reportLateReleases,
                    RELEASE_REPORT_NANOS / 2000);
        }
    }

    private int reportLateReleases() {
        long now = runtime.clock().nanoTime();
        for (IoChannel<?> ch : releasing) {
            if (now - ch.releaseStartedNanos() >= RELEASE_REPORT_NANOS && ch.markReportedLate()) {
                LOG.error("io_device {}: channel on thread {} still releasing after {} ms: {}", ch.device().name(),
                        name, (now - ch.releaseStartedNanos()) / 1_000_000, ch.describe());
            }
        }
        return PollerFn.IDLE;
    }

    /** Forced out: what is still held can never be released now; its devices must not wait for it. */
    private void abandonChannels() {
        List<IoChannel<?>> left = new ArrayList<>(channels.values());
        left.addAll(releasing);
        channels.clear();
        releasing.clear();
        for (IoChannel<?> ch : left) {
            ch.abandon();
        }
    }

    /** This thread's channel for a device, without taking a reference; null if none. Owner thread only. */
    @SuppressWarnings("unchecked")
    <C> IoChannel<C> channelFor(IoDevice<C> device) {
        return (IoChannel<C>) channels.get(device);
    }

    /** Snapshot of this thread's channels, for {@code thread_get_io_channels}. Owner thread only. */
    public List<IoChannel<?>> ioChannels() {
        return new ArrayList<>(channels.values());
    }

    private String channelNames() {
        StringBuilder sb = new StringBuilder();
        channels.values().forEach(ch -> sb.append(sb.isEmpty() ? "" : ", ").append(ch.device().name()));
        releasing.forEach(ch -> sb.append(sb.isEmpty() ? "" : ", ").append(ch.device().name())
                .append(" (releasing: ").append(ch.context()).append(')'));
        return sb.toString();
    }

    // ---- file descriptors ----

    /** Watches a non-blocking channel on this thread's reactor; {@code handler} runs on this thread. */
    public FdWatch watch(SelectableChannel channel, int ops, FdHandler handler) {
        checkOwner();
        return runtime.watch(this, channel, ops, handler);
    }

    /**
     * Watches a raw file descriptor (an eventfd, a Unix socket passing fds: what NIO has no channel for) on this
     * thread's reactor, level-triggered; {@code handler} runs on this thread with the ready {@link io.keel.core.sys.Epoll}
     * bits. {@code events} and {@link FdWatch#interest} take {@code Epoll.EPOLLIN}, {@code EPOLLOUT}... Cancel the watch
     * before closing the fd; the fd stays the caller's.
     */
    public FdWatch watchFd(int fd, int events, FdHandler handler) {
        checkOwner();
        return runtime.watchFd(this, fd, events, handler);
    }

    /** Runs a ready fd's handler as this thread, accounting its time. For runtimes. */
    public int runFdHandler(FdHandler handler, int readyOps) {
        KeelThread previous = setCurrent(this);
        long start = runtime.clock().nanoTime();
        workNanos = start;
        int work;
        try {
            work = handler.onReady(readyOps);
        } catch (RuntimeException | AssertionError e) {
            reportFailure("fd handler", e);
            work = 1;
        } finally {
            setCurrent(previous);
        }
        account(work, runtime.clock().nanoTime() - start);
        return work;
    }

    // ---- introspection ----

    void checkOwner() {
        if (current() != this) {
            throw new IllegalStateException("called on " + describe(current()) + ", but only thread " + name + " may");
        }
    }

    private static String describe(KeelThread t) {
        return t == null ? "OS thread " + Thread.currentThread().getName() : "thread " + t.name;
    }

    /** Every poller still registered (active, timed and paused). Owner thread only. */
    public List<Poller> allPollers() {
        List<Poller> all = new ArrayList<>();
        for (List<Poller> l : List.of(activePollers, timedPollers, pausedPollers)) {
            for (Poller p : l) {
                if (p.state != Poller.State.UNREGISTERED && !all.contains(p)) {
                    all.add(p);
                }
            }
        }
        return all;
    }

    public Object placement() {
        return placement;
    }

    /** Records where the runtime placed this thread. For runtimes. */
    public void placement(Object where) {
        placement = where;
    }

    public ThreadRuntime runtime() {
        return runtime;
    }

    public String name() {
        return name;
    }

    public long id() {
        return id;
    }

    public CpuMask cpumask() {
        return cpumask;
    }

    public State state() {
        return state;
    }

    public long busyNanos() {
        return busyNanos;
    }

    public long idleNanos() {
        return idleNanos;
    }

    public long messagesRun() {
        return messagesRun;
    }

    public long createdNanos() {
        return createdNanos;
    }

    Inbox inbox() {
        return inbox;
    }

    List<Poller> activePollerList() {
        return activePollers;
    }

    List<Poller> timedPollerList() {
        return timedPollers;
    }

    @Override
    public String toString() {
        return "KeelThread[" + name + "#" + id + "]";
    }

    /** An OS thread that runs lightweight threads (a reactor); keeps the current thread in a field. */
    public static class Carrier extends Thread {
        private KeelThread current;

        public Carrier(Runnable body, String name) {
            super(body, name);
        }
    }
}
