package io.keel.core.thread;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Something that keeps per-thread state (SPDK's io_device): each lightweight thread that uses it gets an
 * {@link IoChannel} whose context is made by {@code create} on that thread and released by {@code destroy}
 * on that thread. Channels are obtained with {@link KeelThread#getIoChannel}.
 *
 * @param <C> the per-thread context
 */
public final class IoDevice<C> {
    private final String name;
    private final Function<KeelThread, C> create;
    private final Consumer<C> destroy;
    /** Threads that hold a channel; visited by {@link #forEachChannel}. */
    private final Set<KeelThread> holders = ConcurrentHashMap.newKeySet();
    private volatile boolean unregistering;
    /** Who asked to unregister and what to run there; taken exactly once when the last channel is gone. */
    private final AtomicReference<Runnable> pendingUnregister = new AtomicReference<>();

    private IoDevice(String name, Function<KeelThread, C> create, Consumer<C> destroy) {
        this.name = name;
        this.create = create;
        this.destroy = destroy;
    }

    /** Registers an io_device; {@code create} and {@code destroy} run on the thread that owns each channel. */
    public static <C> IoDevice<C> register(String name, Function<KeelThread, C> create, Consumer<C> destroy) {
        return new IoDevice<>(name, create, destroy);
    }

    public String name() {
        return name;
    }

    C createContext(KeelThread t) {
        return create.apply(t);
    }

    void destroyContext(C ctx) {
        destroy.accept(ctx);
    }

    /** Records {@code t} as a holder unless the device is unregistering (then returns false). */
    boolean tryAddHolder(KeelThread t) {
        holders.add(t);
        if (unregistering) { // raced with unregister: back out, and let it finish if we were the last
            holders.remove(t);
            maybeFinishUnregister();
            return false;
        }
        return true;
    }

    /** Called on the owner thread when its channel has been destroyed. */
    void channelDestroyed(KeelThread t) {
        holders.remove(t);
        maybeFinishUnregister();
    }

    /** How many threads hold a channel now. */
    public int channelCount() {
        return holders.size();
    }

    /**
     * Unregisters the device: no new channels are created, and {@code done} runs on the calling thread once
     * every existing channel has been released and destroyed (at once if there are none). Calling thread must
     * be a lightweight thread.
     */
    public void unregister(Runnable done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("io_device " + name + " must be unregistered from a lightweight thread");
        }
        if (unregistering) {
            throw new IllegalStateException("io_device " + name + " is already unregistering");
        }
        unregistering = true;
        pendingUnregister.set(() -> caller.send(done));
        maybeFinishUnregister();
    }

    private void maybeFinishUnregister() {
        if (unregistering && holders.isEmpty()) {
            Runnable notify = pendingUnregister.getAndSet(null);
            if (notify != null) {
                notify.run();
            }
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
        List<KeelThread> threads = new ArrayList<>(holders);
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
