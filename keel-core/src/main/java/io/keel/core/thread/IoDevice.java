package io.keel.core.thread;

import io.keel.core.rpc.Errno;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Something that keeps per-thread state (SPDK's io_device): each lightweight thread that uses it gets an
 * {@link IoChannel} whose context is made by {@code create} on that thread and released by {@code destroy}
 * on that thread. Channels are obtained with {@link KeelThread#getIoChannel}. A device whose contexts need time
 * to let go (I/O in flight) registers with {@link #registerDraining} instead.
 *
 * @param <C> the per-thread context
 */
public final class IoDevice<C> {
    private static final Logger LOG = LoggerFactory.getLogger(IoDevice.class);
    /** How long {@link #unregister} waits for the channels before it fails, naming the holders left. */
    public static final long UNREGISTER_TIMEOUT_NANOS = 10_000_000_000L;

    private final String name;
    private final Function<KeelThread, C> create;
    private final ChannelRelease<C> release;
    /** Channels not yet released (live or releasing), one or more per thread; visited by {@link #forEachChannel}. */
    private final Set<IoChannel<C>> holders = ConcurrentHashMap.newKeySet();
    private volatile boolean unregistering;
    /** The unregister in progress; taken exactly once, by the last release, the bound, or abandonment. */
    private final AtomicReference<PendingUnregister> pendingUnregister = new AtomicReference<>();

    private IoDevice(String name, Function<KeelThread, C> create, ChannelRelease<C> release) {
        this.name = name;
        this.create = create;
        this.release = release;
    }

    /** Registers an io_device; {@code create} and {@code destroy} run on the thread that owns each channel. */
    public static <C> IoDevice<C> register(String name, Function<KeelThread, C> create, Consumer<C> destroy) {
        return new IoDevice<>(name, create, (ctx, released) -> {
            destroy.accept(ctx);
            released.run();
        });
    }

    /**
     * Registers an io_device whose contexts may need time to be released (they wait for I/O in flight):
     * {@code release} runs on the owner thread after the last put and calls back when it is done.
     */
    public static <C> IoDevice<C> registerDraining(String name, Function<KeelThread, C> create,
            ChannelRelease<C> release) {
        return new IoDevice<>(name, create, release);
    }

    public String name() {
        return name;
    }

    C createContext(KeelThread t) {
        return create.apply(t);
    }

    void releaseContext(C ctx, Runnable released) {
        release.release(ctx, released);
    }

    /** Records {@code ch} as a holder unless the device is unregistering (then returns false). */
    boolean tryAddHolder(IoChannel<C> ch) {
        holders.add(ch);
        if (unregistering) { // raced with unregister: back out, and let it finish if we were the last
            holders.remove(ch);
            maybeFinishUnregister();
            return false;
        }
        return true;
    }

    /** Called on the owner thread when its channel's context has been released (or never got made). */
    void channelReleased(IoChannel<C> ch) {
        holders.remove(ch);
        maybeFinishUnregister();
    }

    /** Called when the owner thread was forced out holding {@code ch}: it will never be released. */
    void channelAbandoned(IoChannel<C> ch) {
        LOG.error("io_device {}: thread {} exited without releasing its channel; what it holds stays allocated",
                name, ch.thread().name());
        maybeFinishUnregister();
    }

    /** How many channels exist now (live or still releasing). */
    public int channelCount() {
        return holders.size();
    }

    /** The holders left, for error messages: each channel's thread, phase and context. */
    public String describeHolders() {
        List<IoChannel<C>> left = new ArrayList<>(holders);
        left.sort(Comparator.comparingLong(ch -> ch.thread().id()));
        StringBuilder sb = new StringBuilder();
        for (IoChannel<C> ch : left) {
            sb.append(sb.isEmpty() ? "" : "; ").append(ch.describe());
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }

    /**
     * Unregisters the device: no new channels are created, and {@code done} runs on the calling thread once
     * every existing channel has been released (at once if there are none). If that does not happen within
     * {@link #UNREGISTER_TIMEOUT_NANOS}, an error names the holders left and the unregister waits on without a
     * caller: {@code done} then never runs (what the holders use is never freed under them). Calling thread
     * must be a lightweight thread.
     */
    public void unregister(Runnable done) {
        unregister(rc -> {
            if (rc == 0) {
                done.run();
            }
        });
    }

    /**
     * As {@link #unregister(Runnable)}, with an outcome: {@code done} runs on the calling thread exactly once,
     * with 0 once every channel has been released, or with -ETIMEDOUT after an error log naming the holders
     * left — at {@link #UNREGISTER_TIMEOUT_NANOS}, or at once when every holder left is a thread that exited
     * without releasing its channel (it never will). A holder released later still releases normally.
     */
    public void unregister(IntConsumer done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("io_device " + name + " must be unregistered from a lightweight thread");
        }
        if (unregistering) {
            throw new IllegalStateException("io_device " + name + " is already unregistering");
        }
        PendingUnregister p = new PendingUnregister(this, caller, done);
        pendingUnregister.set(p);
        unregistering = true;
        p.startBound();
        maybeFinishUnregister();
    }

    private void maybeFinishUnregister() {
        if (!unregistering) {
            return;
        }
        boolean allAbandoned = !holders.isEmpty();
        for (IoChannel<C> ch : holders) {
            allAbandoned &= ch.abandoned();
        }
        if (holders.isEmpty() || allAbandoned) {
            PendingUnregister p = pendingUnregister.getAndSet(null);
            if (p != null) {
                p.finish(holders.isEmpty() ? 0 : -Errno.ETIMEDOUT, "held only by exited threads");
            }
        }
    }

    private void unregisterTimedOut() {
        PendingUnregister p = pendingUnregister.getAndSet(null);
        if (p != null) {
            p.finish(-Errno.ETIMEDOUT, "still held after " + UNREGISTER_TIMEOUT_NANOS / 1_000_000 + " ms");
        }
    }

    /** An unregister waiting for its channels, with its bound (a timer on the caller while it runs). */
    private static final class PendingUnregister {
        private final IoDevice<?> device;
        private final KeelThread caller;
        private final IntConsumer done;
        private Poller bound;

        PendingUnregister(IoDevice<?> device, KeelThread caller, IntConsumer done) {
            this.device = device;
            this.caller = caller;
            this.done = done;
        }

        /** An exiting caller registers no timer: its own exit bound ends the wait. */
        void startBound() {
            if (caller.state() == KeelThread.State.RUNNING) {
                bound = caller.registerPoller("io_device_unregister_" + device.name, () -> {
                    device.unregisterTimedOut();
                    return PollerFn.BUSY;
                }, UNREGISTER_TIMEOUT_NANOS / 1000);
            }
        }

        /** From any thread: logs a failure where it is seen (naming the holders), then completes on the caller. */
        void finish(int rc, String why) {
            if (rc != 0) {
                LOG.error("io_device {}: unregister fails, {}: {}", device.name, why, device.describeHolders());
            }
            if (!caller.send(PendingUnregister::complete, new Object[] {this, rc})) {
                LOG.error("io_device {}: unregister caller {} has exited", device.name, caller.name());
            }
        }

        private static void complete(Object[] m) {
            PendingUnregister p = (PendingUnregister) m[0];
            if (p.bound != null) {
                p.bound.unregister();
            }
            p.done.accept((Integer) m[1]);
        }
    }

    /**
     * Calls {@code fn} with each thread's channel, on that thread, one thread after another; {@code fn} must
     * call {@link ChannelIteration#next} (status 0 continues; non-zero stops). Then {@code done} runs on the
     * calling thread with the final status. Threads are visited in creation order; those that release their
     * channel meanwhile are skipped.
     */
    public void forEachChannel(BiConsumer<ChannelIteration<C>, IoChannel<C>> fn, Consumer<Integer> done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("forEachChannel must be called from a lightweight thread");
        }
        List<KeelThread> threads = new ArrayList<>();
        for (IoChannel<C> ch : holders) {
            if (!threads.contains(ch.thread())) {
                threads.add(ch.thread());
            }
        }
        threads.sort(Comparator.comparingLong(KeelThread::id)); // a set's order is not deterministic (rule R9)
        new ChannelIteration<>(this, threads, fn, caller, done).visitNext(0);
    }

    /** One {@link #forEachChannel} pass in progress. */
    public static final class ChannelIteration<C> {
        private final IoDevice<C> device;
        private final List<KeelThread> threads;
        private final BiConsumer<ChannelIteration<C>, IoChannel<C>> fn;
        private final KeelThread caller;
        private final Consumer<Integer> done;
        private int index;

        private ChannelIteration(IoDevice<C> device, List<KeelThread> threads,
                BiConsumer<ChannelIteration<C>, IoChannel<C>> fn, KeelThread caller, Consumer<Integer> done) {
            this.device = device;
            this.threads = threads;
            this.fn = fn;
            this.caller = caller;
            this.done = done;
        }

        /** Continues to the next thread (status 0) or ends the iteration with {@code status}. */
        public void next(int status) {
            visitNext(status);
        }

        private void visitNext(int status) {
            if (status != 0 || index >= threads.size()) {
                caller.send(() -> done.accept(status));
                return;
            }
            KeelThread t = threads.get(index++);
            if (!t.send(ChannelIteration::visitHere, this)) {
                visitNext(0); // that thread is gone, and so is its channel
            }
        }

        private static <C> void visitHere(ChannelIteration<C> it) {
            IoChannel<C> ch = KeelThread.current().channelFor(it.device);
            if (ch == null || ch.destroyed()) {
                it.visitNext(0);
            } else {
                it.fn.accept(it, ch);
            }
        }
    }

    @Override
    public String toString() {
        return "IoDevice[" + name + "]";
    }
}
