package io.keel.nvmf.transport;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.Poller;
import io.keel.core.time.Clock;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ControllerManager;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.io.IoCommandExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which qpairs, of every transport, belong to which controller — owned by the application thread (rule R1). Each
 * qpair's Connect and admin commands come here as messages (R2) and run against the {@link ControllerManager}; a
 * controller torn down here (keep-alive expired — judged on the controller over all its queues, R8 —, admin queue
 * gone, subsystem deleted, host or listener removed) has its qpairs closed by messages to their threads; a
 * subsystem's namespace change reaches its I/O queues here and waits, bounded, for them to drain.
 */
public final class QpairRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(QpairRegistry.class);
    /** Keep-alive timers are checked this often (SPDK checks at a KATO-derived period; 100 ms bounds the error). */
    static final long KEEP_ALIVE_CHECK_MICROS = 100_000;
    /** How long a namespace change waits for the I/O queues to drain the namespaces it removed. */
    public static final long NAMESPACE_DRAIN_BOUND_MICROS = 5_000_000;
    @SuppressWarnings("rawtypes")
    private static final MessageFn<ForwardedCommand> ADMIN = QpairRegistry::executeAdmin;

    /** A bound qpair as the application thread knows it: its qid and the qpair (whose fixed facts it may read). */
    public record QpairInfo(int qid, TargetQpair qpair) {
        public String thread() {
            return qpair.thread().name();
        }

        public ListenAddress listenAddress() {
            return qpair.listenAddress();
        }

        public ListenAddress peerAddress() {
            return qpair.peerAddress();
        }
    }

    private final KeelThread appThread;
    private final Clock clock;
    private final ControllerManager controllers;
    private final Map<Controller, List<QpairInfo>> qpairs = new HashMap<>();
    private Poller keepAlivePoller;
    private boolean stopped;

    public QpairRegistry(KeelThread appThread, Clock clock, ControllerManager controllers) {
        this.appThread = appThread;
        this.clock = clock;
        this.controllers = controllers;
    }

    /** Starts checking keep-alive timers (application thread). */
    public void start() {
        if (keepAlivePoller == null) {
            keepAlivePoller = appThread.registerPoller("nvmf_keep_alive", this::checkKeepAlive,
                    KEEP_ALIVE_CHECK_MICROS);
        }
    }

    /**
     * The transports are stopping: their qpairs close on their threads and the target destroys the controllers, so
     * queues going from now on are not looked at (application thread).
     */
    public void stop() {
        stopped = true;
        if (keepAlivePoller != null) {
            keepAlivePoller.unregister();
            keepAlivePoller = null;
        }
    }

    /** Every transport stopped: forgets the qpairs, and takes new ones again (a transport made later). */
    public void stopped() {
        qpairs.clear();
        stopped = false;
    }

    // ---- connect and admin commands (messages from the qpairs, run here) ----

    /** A qpair got a Connect: run it on the application thread. Qpair's thread. */
    public void connect(ForwardedCommand<?> f) {
        appThread.send(() -> executeConnect(f));
    }

    private void executeConnect(ForwardedCommand<?> f) {
        TargetQpair q = f.qpair();
        ControllerManager.Binding b = controllers.connect(f, q.transportOptions(), clock.nanoTime(),
                q.listenAddress(), q.peerAddress().traddr() + ":" + q.peerAddress().trsvcid());
        if (b != null) {
            Controller c = b.controller();
            qpairs.computeIfAbsent(c, k -> new ArrayList<>()).add(new QpairInfo(b.qid(), q));
            f.bound(b, b.qid() > 0 ? IoCommandExecutor.namespaceTable(c.subsystem()) : null);
        }
        f.send();
    }

    /** An admin command of a bound admin queue. Qpair's thread. */
    public void adminCommand(ForwardedCommand<?> f) {
        appThread.send(ADMIN, f);
    }

    private static void executeAdmin(ForwardedCommand<?> f) {
        f.qpair().adminController().execute(f, f.qpair().thread().runtime().clock().nanoTime());
    }

    /** A bound qpair closed (its thread tells us): an admin queue takes its controller with it. Qpair's thread. */
    public void queueGone(TargetQpair q, ControllerManager.Binding b) {
        appThread.send(() -> {
            if (stopped) {
                return; // shutting down: the transports closed every qpair, the target destroys the controllers
            }
            Controller c = b.controller();
            List<QpairInfo> list = qpairs.get(c);
            if (list != null) {
                list.removeIf(i -> i.qpair() == q);
            }
            if (b.qid() == 0) {
                destroy(c, "admin queue disconnected");
            } else {
                c.queueDisconnected(b.qid());
            }
        });
    }

    /** Tears a controller down and closes all its qpairs (application thread). */
    private void destroy(Controller c, String reason) {
        controllers.destroy(c);
        List<QpairInfo> list = qpairs.remove(c);
        if (list != null) {
            for (QpairInfo i : list) {
                TargetQpair q = i.qpair();
                q.thread().send(() -> q.close(reason));
            }
        }
    }

    private int checkKeepAlive() {
        List<Controller> expired = controllers.checkKeepAlive(clock.nanoTime());
        for (int i = 0; i < expired.size(); i++) { // indexed: no iterator ten times a second
            destroy(expired.get(i), "keep-alive timer expired");
        }
        return expired.isEmpty() ? 0 : 1;
    }

    // ---- subsystem events (application thread) ----

    /**
     * The namespaces of {@code s} changed: every I/O qpair of its controllers switches to the new table and
     * drains what it had in flight on namespaces that left it (the subsystem's pause); {@code done} runs here
     * when all have, or after {@link #NAMESPACE_DRAIN_BOUND_MICROS} (logged) so a stuck bdev cannot hold the
     * change forever (rule R5).
     */
    public void namespacesChanged(NvmfSubsystem s, Runnable done) {
        Namespace[] table = IoCommandExecutor.namespaceTable(s);
        List<TargetQpair> targets = new ArrayList<>();
        for (Map.Entry<Controller, List<QpairInfo>> e : qpairs.entrySet()) {
            if (e.getKey().subsystem() == s) {
                e.getValue().stream().filter(i -> i.qid() > 0).forEach(i -> targets.add(i.qpair()));
            }
        }
        if (targets.isEmpty()) {
            done.run();
            return;
        }
        int[] left = {targets.size()};
        Poller[] bound = new Poller[1];
        Runnable finish = () -> {
            if (left[0] >= 0) {
                left[0] = -1;
                bound[0].unregister();
                done.run();
            }
        };
        bound[0] = appThread.registerPoller("nvmf_ns_change_bound", () -> {
            LOG.warn("nvmf: {}: {} I/O queue(s) still busy on a removed namespace after {} ms; going on", s.nqn(),
                    left[0], NAMESPACE_DRAIN_BOUND_MICROS / 1000);
            finish.run();
            return 1;
        }, NAMESPACE_DRAIN_BOUND_MICROS);
        for (TargetQpair q : targets) {
            q.thread().send(() -> q.namespacesChanged(table, () -> appThread.send(() -> {
                if (left[0] > 0 && --left[0] == 0) {
                    finish.run();
                }
            })));
        }
    }

    /** Closes the controllers of {@code s} (deleted) or those of a host no longer allowed ({@code host} != null). */
    public void disconnect(NvmfSubsystem s, String host, String reason) {
        for (Controller c : List.copyOf(qpairs.keySet())) {
            if (c.subsystem() == s && (host == null || c.hostnqn().equals(host))) {
                destroy(c, reason);
            }
        }
    }

    /** Closes the controllers of {@code s} whose admin queue came in through {@code a} (the listener went). */
    public void disconnect(NvmfSubsystem s, ListenAddress a) {
        for (Controller c : List.copyOf(qpairs.keySet())) {
            if (c.subsystem() == s
                    && qpairs.get(c).stream().anyMatch(i -> i.qid() == 0 && i.listenAddress().equals(a))) {
                destroy(c, "listener removed");
            }
        }
    }

    // ---- introspection (application thread) ----

    /** The qpairs of {@code c}, admin first. */
    public List<QpairInfo> qpairsOf(Controller c) {
        List<QpairInfo> l = qpairs.get(c);
        if (l == null) {
            return List.of();
        }
        List<QpairInfo> sorted = new ArrayList<>(l);
        sorted.sort((a, b) -> Integer.compare(a.qid(), b.qid()));
        return sorted;
    }
}
