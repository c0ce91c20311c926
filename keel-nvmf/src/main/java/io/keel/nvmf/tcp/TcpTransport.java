package io.keel.nvmf.tcp;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.ThreadRuntime;
import io.keel.core.time.Clock;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.transport.PollGroupFanOut;
import io.keel.nvmf.transport.QpairRegistry;
import io.keel.nvmf.transport.SharedListeners;
import io.keel.nvmf.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVMe/TCP transport of the target, owned by the application thread (rule R1): its listening sockets and its
 * poll groups (one lightweight thread per reactor core, {@code nvmf_tgt_poll_group_NNN}). Accepted connections go
 * to the poll groups round robin; a qpair's Connect and admin commands, and its end, go to the target's
 * {@link QpairRegistry}.
 */
public final class TcpTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);
    /** Linux sends up to 8 KiB of in-capsule data on the admin queue whatever IOCCSZ says. */
    static final int ADMIN_IN_CAPSULE_DATA = 8192;
    static final int MAX_H2C_DATA = 131072;
    private static final long UINT32_MAX = 0xFFFF_FFFFL;

    private final KeelThread appThread;
    private final ThreadRuntime runtime;
    private final IoBuf iobuf;
    private final QpairRegistry registry;
    private final TransportOptions options;
    private final TcpConnectionConfig connectionConfig;
    private final List<TcpPollGroup> groups = new ArrayList<>();
    private final SharedListeners<TcpListener> listeners = new SharedListeners<>(
            a -> TcpListener.open(a, this::accepted), TcpListener::close);
    /**
     * How long an accepted connection may take to send its ICReq and get its Connect answered; 30 s, or the
     * system property {@code keel.nvmf.tcp.connect_timeout_ms} read when the transport is created.
     */
    private final long connectTimeoutNanos = Long.getLong("keel.nvmf.tcp.connect_timeout_ms",
            TcpPollGroup.CONNECT_TIMEOUT_NANOS / 1_000_000) * 1_000_000;
    private int nextGroup;
    private boolean stopped;

    public TcpTransport(KeelThread appThread, ThreadRuntime runtime, IoBuf iobuf, QpairRegistry registry,
            TransportOptions options) {
        this.appThread = appThread;
        this.runtime = runtime;
        this.iobuf = iobuf;
        this.registry = registry;
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

    @Override
    public String trtype() {
        return "TCP";
    }

    @Override
    public TransportOptions options() {
        return options;
    }

    QpairRegistry registry() {
        return registry;
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

    /** Creates one poll group per reactor core (application thread). */
    @Override
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
    }

    private static int cacheSize(long configured, int dflt) {
        return configured == UINT32_MAX ? dflt : (int) Math.min(configured, 4096);
    }

    /** Closes the listeners and every qpair, then lets the poll group threads exit; {@code done} on this thread. */
    @Override
    public void stop(Runnable done) {
        if (stopped) {
            done.run();
            return;
        }
        stopped = true;
        listeners.closeAll();
        PollGroupFanOut.stopAll(appThread, groups, done);
    }

    // ---- listeners ----

    @Override
    public void listen(ListenAddress a) throws IOException {
        if (listeners.listen(a)) {
            LOG.info("nvmf: NVMe/TCP target listening on {} port {}", a.traddr(), a.trsvcid());
        }
    }

    @Override
    public void stopListening(ListenAddress a) {
        if (listeners.stopListening(a)) {
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

    /** Collects every poll group's statistics (a message to each, rule R1); {@code done} runs on this thread. */
    @Override
    public void stats(Consumer<List<PollGroupStats>> done) {
        PollGroupFanOut.gatherStats(appThread, groups, done);
    }
}
