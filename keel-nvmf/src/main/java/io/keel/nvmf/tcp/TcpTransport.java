package io.keel.nvmf.tcp;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.Poller;
import io.keel.core.thread.ThreadRuntime;
import io.keel.core.time.Clock;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ControllerManager;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.io.IoCommandExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVMe/TCP transport of the target, owned by the application thread (rule R1): its listening sockets, its
 * poll groups (one lightweight thread per reactor core, {@code nvmf_tgt_poll_group_NNN}) and the registry of
 * which qpairs belong to which controller. Accepted connections go to the poll groups round robin; a qpair's
 * Connect and admin commands come back here as messages (R2) and run against the {@link ControllerManager};
 * a controller torn down here (keep-alive expired — judged on the controller over all its queues, R8 —,
 * admin queue gone, subsystem deleted) has its qpairs closed by messages to their threads.
 */
public final class TcpTransport {
    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);
    /** Keep-alive timers are checked this often (SPDK checks at a KATO-derived period; 100 ms bounds the error). */
    static final long KEEP_ALIVE_CHECK_MICROS = 100_000;
    /** How long a namespace change waits for the I/O queues to drain the namespaces it removed. */
    static final long NAMESPACE_DRAIN_BOUND_MICROS = 5_000_000;
    /** Linux sends up to 8 KiB of in-capsule data on the admin queue whatever IOCCSZ says. */
    static final int ADMIN_IN_CAPSULE_DATA = 8192;
    static final int MAX_H2C_DATA = 131072;
    private static final long UINT32_MAX = 0xFFFF_FFFFL;
    private static final MessageFn<ForwardedCommand> ADMIN = TcpTransport::executeAdmin;

    /**
     * A bound qpair as the application thread knows it (for teardown and nvmf_subsystem_get_qpairs): its qid, and
     * the qpair's fixed facts (its thread and addresses never change, so this thread may read them).
     */
    public record QpairInfo(int qid, TcpQpair qpair) {
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
    private final ThreadRuntime runtime;
    private final IoBuf iobuf;
    private final ControllerManager controllers;
    private final TransportOptions options;
    private final TcpConnectionConfig connectionConfig;
    private final List<TcpPollGroup> groups = new ArrayList<>();
    private final Map<ListenAddress, TcpListener> listeners = new LinkedHashMap<>();
    private final Map<Controller, List<QpairInfo>> qpairs = new HashMap<>();
    private Poller keepAlivePoller;
    /**
     * How long an accepted connection may take to send its ICReq and get its Connect answered; 30 s, or the
     * system property {@code keel.nvmf.tcp.connect_timeout_ms} read when the transport is created.
     */
    private final long connectTimeoutNanos = Long.getLong("keel.nvmf.tcp.connect_timeout_ms",
            TcpPollGroup.CONNECT_TIMEOUT_NANOS / 1_000_000) * 1_000_000;
    private int nextGroup;
    private boolean stopped;

    public TcpTransport(KeelThread appThread, ThreadRuntime runtime, IoBuf iobuf, ControllerManager controllers,
            TransportOptions options) {
        this.appThread = appThread;
        this.runtime = runtime;
        this.iobuf = iobuf;
        this.controllers = controllers;
        this.options = options;
        this.connectionConfig = connectionConfig(options);
    }

    /** The bounds of every connection: the deepest queue and the largest in-capsule data any queue may have. */
    static TcpConnectionConfig connectionConfig(TransportOptions o) {
        int depth = (int) Math.max(o.maxQueueDepth(), o.maxAqDepth());
        int icd = (int) Math.max(o.inCapsuleDataSize(), ADMIN_IN_CAPSULE_DATA);
        return new TcpConnectionConfig(depth, 0, true, true, MAX_H2C_DATA, (int) o.maxIoSize(), icd,
                (int) o.maxIoSize(), MAX_H2C_DATA, o.c2hSuccess());
    }

    public TransportOptions options() {
        return options;
    }

    /** The most requests queue {@code qid} may have (max_aq_depth for the admin queue, else max_queue_depth). */
    int maxEntries(int qid) {
        return (int) (qid == 0 ? options.maxAqDepth() : options.maxQueueDepth());
    }

    /** In-capsule data per request of queue {@code qid}: IOCCSZ's for I/O queues, 8 KiB for the admin queue. */
    int inCapsuleDataSize(int qid) {
        return (int) (qid == 0 ? Math.max(options.inCapsuleDataSize(), ADMIN_IN_CAPSULE_DATA)
                : options.inCapsuleDataSize());
    }

    Clock clock() {
        return runtime.clock();
    }

    /** Creates one poll group per reactor core and the keep-alive poller (application thread). */
    public void start() {
        int[] cores = runtime.cores().cores();
        long perGroup = Math.max(1, options.numSharedBuffers() / cores.length);
        int small = cacheSize(options.iobufSmallCacheSize(), 32);
        int large = cacheSize(options.iobufLargeCacheSize(), 16);
        long queueMemory = (options.keelQueueMemoryMb() << 20) / cores.length;
        for (int i = 0; i < cores.length; i++) {
            String name = String.format("nvmf_tgt_poll_group_%03d", i);
            KeelThread t = runtime.createThread(name, CpuMask.of(cores[i]));
            TcpPollGroup g = new TcpPollGroup(name, t, iobuf, (int) Math.min(perGroup, Integer.MAX_VALUE), small,
                    large, connectTimeoutNanos, new QueueMemory(queueMemory));
            groups.add(g);
            t.send(g::start);
        }
        keepAlivePoller = appThread.registerPoller("nvmf_keep_alive", this::checkKeepAlive, KEEP_ALIVE_CHECK_MICROS);
    }

    private static int cacheSize(long configured, int dflt) {
        return configured == UINT32_MAX ? dflt : (int) Math.min(configured, 4096);
    }

    /** Closes the listeners and every qpair, then lets the poll group threads exit; {@code done} on this thread. */
    public void stop(Runnable done) {
        if (stopped) {
            done.run();
            return;
        }
        stopped = true;
        listeners.values().forEach(TcpListener::close);
        listeners.clear();
        if (keepAlivePoller != null) {
            keepAlivePoller.unregister();
        }
        int[] left = {groups.size()};
        if (left[0] == 0) {
            done.run();
            return;
        }
        for (TcpPollGroup g : groups) {
            g.thread().send(() -> g.stop(() -> g.thread().exit(() -> appThread.send(() -> {
                if (--left[0] == 0) {
                    qpairs.clear();
                    done.run();
                }
            }))));
        }
    }

    // ---- listeners ----

    /** Starts listening on {@code a} (shared by the subsystems that use it). */
    public void listen(ListenAddress a) throws IOException {
        TcpListener l = listeners.get(a);
        if (l == null) {
            l = TcpListener.open(a, this::accepted);
            listeners.put(a, l);
            LOG.info("nvmf: NVMe/TCP target listening on {} port {}", a.traddr(), a.trsvcid());
        }
        l.users++;
    }

    /** One user of {@code a} is gone; the socket closes with the last one. */
    public void stopListening(ListenAddress a) {
        TcpListener l = listeners.get(a);
        if (l != null && --l.users == 0) {
            listeners.remove(a);
            l.close();
            LOG.info("nvmf: NVMe/TCP target no longer listening on {} port {}", a.traddr(), a.trsvcid());
        }
    }

    private void accepted(SocketChannel c, ListenAddress at) {
        ListenAddress peer = peerOf(c, at);
        TcpPollGroup g = groups.get(nextGroup);
        nextGroup = (nextGroup + 1) % groups.size();
        LOG.debug("nvmf: connection from {}:{} placed on {}", peer.traddr(), peer.trsvcid(), g.name());
        TcpQpair q = new TcpQpair(this, g, c, at, peer, connectionConfig);
        if (!g.thread().send(q::start)) {
            closeQuietly(c);
        }
    }

    private static ListenAddress peerOf(SocketChannel c, ListenAddress at) {
        try {
            if (c.getRemoteAddress() instanceof InetSocketAddress isa) {
                return new ListenAddress(at.trtype(), at.adrfam(), isa.getAddress().getHostAddress(),
                        Integer.toString(isa.getPort()));
            }
        } catch (IOException e) {
            LOG.debug("nvmf: peer address: {}", e.getMessage());
        }
        return new ListenAddress(at.trtype(), at.adrfam(), "?", "0");
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.debug("nvmf: {}", e.getMessage());
        }
    }

    // ---- connect and admin commands (messages from the qpairs, run here) ----

    /** A qpair got a Connect: run it on the application thread. */
    void connect(ForwardedCommand f) {
        appThread.send(() -> executeConnect(f));
    }

    private void executeConnect(ForwardedCommand f) {
        TcpQpair q = f.qpair();
        ControllerManager.Binding b = controllers.connect(f, options, runtime.clock().nanoTime(), q.listenAddress(),
                q.peerAddress().traddr() + ":" + q.peerAddress().trsvcid());
        if (b != null) {
            Controller c = b.controller();
            qpairs.computeIfAbsent(c, k -> new ArrayList<>()).add(new QpairInfo(b.qid(), q));
            f.binding = b;
            if (b.qid() > 0) {
                f.namespaces = IoCommandExecutor.namespaceTable(c.subsystem());
            }
        }
        f.send();
    }

    /** An admin command of a bound admin queue. */
    void adminCommand(ForwardedCommand f) {
        appThread.send(ADMIN, f);
    }

    private static void executeAdmin(ForwardedCommand f) {
        TcpQpair q = f.qpair();
        q.adminController().execute(f, q.transport().runtime.clock().nanoTime());
    }

    /** A bound qpair closed (its thread tells us): an admin queue takes its controller with it. */
    void queueGone(TcpQpair q, ControllerManager.Binding b) {
        appThread.send(() -> {
            if (stopped) {
                return; // shutting down: the poll groups closed every qpair, the target destroys the controllers
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
                TcpQpair q = i.qpair();
                q.thread().send(() -> q.close(reason));
            }
        }
    }

    private int checkKeepAlive() {
        List<Controller> expired = controllers.checkKeepAlive(runtime.clock().nanoTime());
        for (Controller c : expired) {
            destroy(c, "keep-alive timer expired");
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
        var table = IoCommandExecutor.namespaceTable(s);
        List<TcpQpair> targets = new ArrayList<>();
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
        for (TcpQpair q : targets) {
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

    /** Closes the qpairs of {@code s} that came in through {@code a} (the listener was removed from it). */
    public void disconnect(NvmfSubsystem s, ListenAddress a) {
        for (Controller c : List.copyOf(qpairs.keySet())) {
            if (c.subsystem() == s && qpairs.get(c).stream().anyMatch(i -> i.qid() == 0 && i.listenAddress().equals(a))) {
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

    /** Collects every poll group's statistics (a message to each, rule R1); {@code done} runs on this thread. */
    public void stats(Consumer<List<TcpPollGroupStats>> done) {
        TcpPollGroupStats[] out = new TcpPollGroupStats[groups.size()];
        int[] left = {groups.size()};
        if (left[0] == 0) {
            done.accept(List.of());
            return;
        }
        for (int i = 0; i < groups.size(); i++) {
            TcpPollGroup g = groups.get(i);
            int index = i;
            g.thread().send(() -> {
                TcpPollGroupStats s = TcpPollGroupStats.of(g);
                appThread.send(() -> {
                    out[index] = s;
                    if (--left[0] == 0) {
                        done.accept(List.of(out));
                    }
                });
            });
        }
    }
}
