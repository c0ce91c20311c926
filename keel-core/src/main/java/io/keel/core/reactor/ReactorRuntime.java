package io.keel.core.reactor;

import io.keel.core.sys.NioFds;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.Inbox;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageRing;
import io.keel.core.thread.ThreadRuntime;
import io.keel.core.time.SystemClock;
import java.nio.channels.SelectableChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The real runtime: one reactor (OS thread) per core of the mask, and a watchdog over them. */
public final class ReactorRuntime extends ThreadRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReactorRuntime.class);

    private final ReactorOptions options;
    private final List<Reactor> reactors = new ArrayList<>();
    private final Watchdog watchdog;
    private volatile Consumer<Throwable> fatalHandler = e -> { };
    private final AtomicBoolean stopped = new AtomicBoolean();

    private ReactorRuntime(ReactorOptions options) {
        super(SystemClock.INSTANCE, options.cores());
        this.options = options;
        for (int core : options.cores().cores()) {
            reactors.add(new Reactor(core, this, options.interruptMode(), options.pin()));
        }
        this.watchdog = options.watchdogMillis() > 0 ? new Watchdog(reactors, options.watchdogMillis()) : null;
    }

    @Override
    public boolean pollsContinuously() {
        return !options.interruptMode();
    }

    /** Starts one reactor per core of {@code options.cores()}. */
    public static ReactorRuntime start(ReactorOptions options) {
        if (!NioFds.available()) {
            // the reactors watch NIO channels by fd in their epoll sets: refuse at once rather than on the first watch
            throw new IllegalStateException(
                    "Keel's reactors need the JVM option --add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        }
        ReactorRuntime rt = new ReactorRuntime(options);
        rt.reactors.forEach(Reactor::start);
        if (rt.watchdog != null) {
            rt.watchdog.start();
        }
        return rt;
    }

    public ReactorOptions options() {
        return options;
    }

    public List<Reactor> reactors() {
        return Collections.unmodifiableList(reactors);
    }

    /** Where stall reports go besides the log (tests listen here). */
    public void onStall(Consumer<Watchdog.Stall> listener) {
        if (watchdog == null) {
            throw new IllegalStateException("the watchdog is disabled");
        }
        watchdog.addListener(listener);
    }

    /** Called if a reactor's loop itself dies (a bug in Keel, not in a message). */
    public void onFatal(Consumer<Throwable> handler) {
        fatalHandler = handler;
    }

    void reactorDied(Reactor r, Throwable e) {
        fatalHandler.accept(e);
    }

    @Override
    protected Inbox newInbox() {
        return new MessageRing(options.ringCapacity());
    }

    /** Puts the thread on the allowed reactor that runs the fewest threads. */
    @Override
    protected void place(KeelThread t) {
        Reactor best = null;
        for (Reactor r : reactors) {
            if (t.cpumask().contains(r.core()) && (best == null || r.threadCount() < best.threadCount())) {
                best = r;
            }
        }
        if (best == null) {
            throw new IllegalStateException("no reactor for cpumask " + t.cpumask());
        }
        t.placement(best);
        best.adopt(t);
    }

    @Override
    protected void messageQueued(KeelThread t) {
        ((Reactor) t.placement()).wake();
    }

    @Override
    protected FdWatch watch(KeelThread owner, SelectableChannel channel, int ops, FdHandler handler) {
        return ((Reactor) owner.placement()).watch(owner, channel, ops, handler);
    }

    @Override
    protected FdWatch watchFd(KeelThread owner, int fd, int events, FdHandler handler) {
        return ((Reactor) owner.placement()).watchFd(owner, fd, events, handler);
    }

    /** The reactor running {@code t}. */
    public Reactor reactorOf(KeelThread t) {
        return (Reactor) t.placement();
    }

    /**
     * Stops every reactor and waits (bounded) for their OS threads. Lightweight threads still running are
     * abandoned; an orderly shutdown exits them first. Not for use on a reactor thread.
     */
    @Override
    public void close() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        if (watchdog != null) {
            watchdog.stop();
        }
        reactors.forEach(Reactor::stop);
        for (Reactor r : reactors) {
            try {
                if (!r.join(5000)) {
                    LOG.error("reactor_{} did not stop within 5 s", r.core());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
