package io.keel.app.perf;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.nvme.host.HostPollGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One core's worker (spdk_nvme_perf's {@code worker_thread}): a lightweight thread on that core's reactor with its
 * own {@link HostPollGroup} and one {@link NsWorkerCtx} (an I/O queue pair) per namespace it drives. Everything
 * here runs on that thread except the futures, which the launching thread waits on (bounded).
 *
 * <p>It connects its queues ({@link #connected} completes, or fails with the first error), starts them together
 * when told, stops after {@code -t} seconds by a timed poller on the runtime's clock (or earlier when told),
 * lets what is in flight drain for at most {@link #DRAIN_MS}, then disconnects and closes its queues, closes its
 * poll group and completes {@link #done}.
 */
final class PerfWorker {
    /** How long in-flight I/O may take to complete after the run before its queue is disconnected anyway. */
    static final long DRAIN_MS = 5_000;

    final int core;
    final KeelThread thread;
    private final Perf perf;
    final List<NsWorkerCtx> ctxs = new ArrayList<>();
    private HostPollGroup group;
    private int connectedCount;

    final CompletableFuture<Void> connected = new CompletableFuture<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    private boolean started;
    private boolean stopping;
    private Poller runTimer;
    private Poller drainTimer;
    /** The counting window on the runtime's clock; read by others after {@link #done}. */
    long startNanos;
    long endNanos;

    PerfWorker(int core, KeelThread thread, Perf perf) {
        this.core = core;
        this.thread = thread;
        this.perf = perf;
    }

    // ---- on the worker's thread ----

    /** Makes the poll group and connects every queue. */
    static void connect(PerfWorker w) {
        if (w.stopping) {
            return;
        }
        w.group = new HostPollGroup(w.thread);
        for (NsWorkerCtx c : w.ctxs) {
            if (w.stopping || !c.connect(w.group)) {
                return;
            }
        }
    }

    void ctxConnected(NsWorkerCtx c) {
        if (++connectedCount == ctxs.size()) {
            connected.complete(null);
        }
    }

    /** A queue could not be made, failed to connect, or was lost: the run ends with this error. */
    void ctxFailed(NsWorkerCtx c, String why) {
        if (!connected.isDone()) {
            connected.completeExceptionally(new IllegalStateException(why));
        }
        perf.fail(why);
    }

    void error(String why) {
        perf.error(why);
    }

    /** Starts every queue's load and the run timer. */
    static void start(PerfWorker w) {
        if (w.stopping) {
            return;
        }
        w.started = true;
        w.startNanos = w.thread.runtime().clock().nanoTime();
        for (NsWorkerCtx c : w.ctxs) {
            c.start();
        }
        w.runTimer = w.thread.registerPoller("perf_run_time", w::timeUp, Math.max(1, Math.round(w.perfSeconds() * 1e6)));
    }

    private double perfSeconds() {
        return perf.seconds();
    }

    private int timeUp() {
        stop(this);
        return 1;
    }

    /** Stops submitting (the run is over, or is being ended); idempotent, in any state. */
    static void stop(PerfWorker w) {
        if (w.stopping) {
            return;
        }
        w.stopping = true;
        w.endNanos = w.started ? w.thread.runtime().clock().nanoTime() : 0;
        if (w.runTimer != null) {
            w.runTimer.unregister();
            w.runTimer = null;
        }
        for (NsWorkerCtx c : w.ctxs) {
            c.stop();
        }
        if (!w.done.isDone()) {
            w.drainTimer = w.thread.registerPoller("perf_drain_bound", w::drainBound, DRAIN_MS * 1000);
        }
    }

    private int drainBound() {
        drainTimer.unregister();
        drainTimer = null;
        for (NsWorkerCtx c : ctxs) {
            c.forceFinish();
        }
        return 1;
    }

    void ctxFinished(NsWorkerCtx c) {
        if (!stopping || done.isDone()) {
            return;
        }
        for (NsWorkerCtx x : ctxs) {
            if (!x.finished()) {
                return;
            }
        }
        if (drainTimer != null) {
            drainTimer.unregister();
            drainTimer = null;
        }
        for (NsWorkerCtx x : ctxs) {
            x.freeBuffers();
        }
        if (group != null) {
            group.close();
        }
        done.complete(null);
    }

    // ---- for the launching thread ----

    /** I/O completed so far (a racy but monotonic sample). */
    long completed() {
        long n = 0;
        for (NsWorkerCtx c : ctxs) {
            n += c.completed;
        }
        return n;
    }

    double seconds() {
        return started && endNanos != 0 ? (endNanos - startNanos) / 1e9 : 0;
    }
}
