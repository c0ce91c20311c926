package io.keel.core.thread;

import io.keel.core.time.Clock;
import java.nio.channels.SelectableChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What runs lightweight threads: real reactors (one OS thread per core) or the simulation (one OS thread,
 * seeded order, simulated time). Modules see only this interface, which is what lets any scenario run under
 * the simulation (rule R9).
 */
public abstract class ThreadRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadRuntime.class);

    private final Clock clock;
    private final CpuMask cores;
    private final AtomicLong nextThreadId = new AtomicLong(1);
    private final List<KeelThread> threads = new CopyOnWriteArrayList<>();

    protected ThreadRuntime(Clock clock, CpuMask cores) {
        this.clock = clock;
        this.cores = cores;
    }

    public final Clock clock() {
        return clock;
    }

    /**
     * Whether every thread is polled continuously (poll-mode reactors), so a peer need not wake it: a vhost queue
     * then tells its driver never to kick. False where threads sleep until woken (interrupt mode, the simulation).
     */
    public boolean pollsContinuously() {
        return false;
    }

    /** The cores this runtime runs reactors on. */
    public final CpuMask cores() {
        return cores;
    }

    /** Creates a lightweight thread on every core of the runtime. */
    public final KeelThread createThread(String name) {
        return createThread(name, cores);
    }

    /**
     * Creates a lightweight thread that may run on the cores of {@code cpumask} (those outside the runtime's
     * cores are ignored); it starts running at once.
     */
    public final KeelThread createThread(String name, CpuMask cpumask) {
        CpuMask usable = cpumask.intersect(cores);
        if (usable.isEmpty()) {
            throw new IllegalArgumentException("cpumask " + cpumask + " has no core in the runtime's mask " + cores);
        }
        KeelThread t = new KeelThread(this, name, nextThreadId.getAndIncrement(), usable, newInbox());
        threads.add(t);
        place(t);
        return t;
    }

    /** The live threads, in creation order (a snapshot). */
    public final List<KeelThread> threads() {
        return new ArrayList<>(threads);
    }

    /**
     * Calls {@code fn} on every thread, one after the other, each on itself; then {@code done} on the calling
     * thread (SPDK's {@code spdk_for_each_thread}). Threads that exit meanwhile are skipped.
     */
    public final void forEachThread(Consumer<KeelThread> fn, Runnable done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("forEachThread must be called from a lightweight thread");
        }
        visit(threads(), 0, fn, caller, done);
    }

    private static void visit(List<KeelThread> list, int index, Consumer<KeelThread> fn, KeelThread caller, Runnable done) {
        if (index == list.size()) {
            caller.send(done);
            return;
        }
        KeelThread t = list.get(index);
        boolean sent = t.send(() -> {
            fn.accept(t);
            visit(list, index + 1, fn, caller, done);
        });
        if (!sent) {
            visit(list, index + 1, fn, caller, done);
        }
    }

    /** The inbox kind this runtime uses. */
    protected abstract Inbox newInbox();

    /** Assigns a new thread to a reactor. */
    protected abstract void place(KeelThread t);

    /** A message was queued for {@code t} (or it began exiting): wake whatever runs it if it sleeps. */
    protected abstract void messageQueued(KeelThread t);

    /** A poller was registered on {@code t} (called on {@code t}); a sleeping runtime recomputes its wait. */
    protected void pollerRegistered(KeelThread t) {
    }

    /** Watches a channel for {@code owner}. */
    protected abstract FdWatch watch(KeelThread owner, SelectableChannel channel, int ops, FdHandler handler);

    /** Watches a raw file descriptor for {@code owner} ({@code events}: epoll bits). */
    protected abstract FdWatch watchFd(KeelThread owner, int fd, int events, FdHandler handler);

    /** A message, poller or handler threw: log it; the thread and everyone else keep running. */
    protected void failure(KeelThread t, String what, Throwable e) {
        LOG.error("{} on thread {} failed", what, t.name(), e);
    }

    /** {@code t} has exited: forget it. */
    protected void threadExited(KeelThread t) {
        threads.remove(t);
    }
}
