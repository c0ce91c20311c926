package io.keel.nvmf.rdma;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.sys.Epoll;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.ThreadRuntime;
import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.transport.PollGroupFanOut;
import io.keel.nvmf.transport.QpairRegistry;
import io.keel.nvmf.transport.SharedListeners;
import io.keel.nvmf.transport.Transport;
import io.keel.rdma.AsyncEvent;
import io.keel.rdma.AsyncEventType;
import io.keel.rdma.CmEvent;
import io.keel.rdma.CmEventChannel;
import io.keel.rdma.CmEventType;
import io.keel.rdma.CmId;
import io.keel.rdma.RdmaException;
import io.keel.rdma.VerbsContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVMe-oF RDMA transport of the target, owned by the application thread (rule R1): its RDMA CM listeners on
 * one event channel read here, the devices they and their hosts use (a protection domain each, with iobuf
 * registered once: {@link RdmaDevice}), and its poll groups (one lightweight thread per reactor core). A connect
 * request is judged here by its private data — rejected with the spec's status and a log line, or handed with its
 * cm id to a poll group (round robin), which makes the qpair, moves the id to its own channel and accepts: from then
 * on the qpair's CM events and completions are read by its owner only (rule R2, scenario S1).
 */
public final class RdmaTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaTransport.class);
    private static final long UINT32_MAX = 0xFFFF_FFFFL;

    private final KeelThread appThread;
    private final ThreadRuntime runtime;
    private final IoBuf iobuf;
    private final QpairRegistry registry;
    private final TransportOptions options;
    private final RdmaTransportOptions rdmaOptions;
    private final List<RdmaPollGroup> groups = new ArrayList<>();
    private final SharedListeners<RdmaListener> listeners = new SharedListeners<>(this::openListener,
            this::closeListener);
    private final Map<Long, RdmaListener> byListenId = new HashMap<>();
    /** Devices by the address of their verbs context. */
    private final Map<Long, RdmaDevice> devices = new LinkedHashMap<>();
    private final CmEvent event = new CmEvent();
    private final AsyncEvent asyncEvent = new AsyncEvent();
    private final List<FdWatch> asyncWatches = new ArrayList<>();
    private CmEventChannel channel;
    private FdWatch channelWatch;
    private int nextGroup;
    private boolean stopped;

    public RdmaTransport(KeelThread appThread, ThreadRuntime runtime, IoBuf iobuf, QpairRegistry registry,
            TransportOptions options) {
        this.appThread = appThread;
        this.runtime = runtime;
        this.iobuf = iobuf;
        this.registry = registry;
        this.options = options;
        this.rdmaOptions = (RdmaTransportOptions) options.specific();
    }

    @Override
    public String trtype() {
        return "RDMA";
    }

    @Override
    public TransportOptions options() {
        return options;
    }

    RdmaTransportOptions rdmaOptions() {
        return rdmaOptions;
    }

    QpairRegistry registry() {
        return registry;
    }

    /** Opens the listeners' CM channel and makes one poll group per reactor core (application thread). */
    @Override
    public void start() {
        channel = CmEventChannel.create();
        channelWatch = appThread.watchFd(channel.fd(), Epoll.EPOLLIN, ready -> cmEvents());
        int[] cores = runtime.cores().cores();
        int buffers = (int) Math.min(Integer.MAX_VALUE, Math.max(1, options.numSharedBuffers() / cores.length));
        int wrs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, options.dataWrPoolSize() / cores.length));
        int small = cacheSize(options.iobufSmallCacheSize(), 32);
        int large = cacheSize(options.iobufLargeCacheSize(), 16);
        for (int i = 0; i < cores.length; i++) {
            // named as TCP's: nvmf_get_stats shows one poll group per core with both transports in it
            String name = String.format("nvmf_tgt_poll_group_%03d", i);
            KeelThread t = runtime.createThread(name, CpuMask.of(cores[i]));
            RdmaPollGroup g = new RdmaPollGroup(name, i, t, this, iobuf, buffers, wrs, small, large);
            groups.add(g);
            t.send(g::start);
        }
        LOG.info("nvmf: RDMA transport: {} poll group(s), {} data buffer(s) and {} data work request(s) each", groups
                .size(), buffers, wrs);
    }

    private static int cacheSize(long configured, int dflt) {
        return configured == UINT32_MAX ? dflt : (int) Math.min(configured, 4096);
    }

    /**
     * Closes the listeners, then every poll group (their qpairs disconnect and are destroyed on their threads),
     * then the devices and the channel; {@code done} on this thread.
     */
    @Override
    public void stop(Runnable done) {
        if (stopped) {
            done.run();
            return;
        }
        stopped = true;
        listeners.closeAll();
        byListenId.clear();
        Runnable rest = () -> {
            asyncWatches.forEach(FdWatch::cancel);
            asyncWatches.clear();
            devices.values().forEach(RdmaDevice::close);
            devices.clear();
            if (channelWatch != null) {
                channelWatch.cancel();
                channel.close();
            }
            event.close();
            done.run();
        };
        PollGroupFanOut.stopAll(appThread, groups, rest);
    }

    // ---- listeners ----

    @Override
    public void listen(ListenAddress a) throws IOException {
        listeners.listen(a);
    }

    private RdmaListener openListener(ListenAddress a) throws IOException {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(a.traddr()), Integer.parseInt(a.trsvcid()));
        CmId id = CmId.create(channel);
        RdmaListener l;
        try {
            check(id.bind(at), "rdma_bind_addr");
            check(id.listen(rdmaOptions.acceptorBacklog()), "rdma_listen");
            VerbsContext v = id.verbsContext();
            l = new RdmaListener(a, id, v == null ? null : device(v));
        } catch (IOException | RuntimeException e) {
            id.close();
            throw e;
        }
        byListenId.put(id.address(), l);
        LOG.info("nvmf: NVMe/RDMA target listening on {} port {}{}", a.traddr(), a.trsvcid(),
                l.device != null ? " (" + l.device.name() + ")" : "");
        return l;
    }

    private static void check(int rc, String call) throws IOException {
        if (rc != 0) {
            throw new IOException(call + ": " + new RdmaException(call, rc).getMessage());
        }
    }

    @Override
    public void stopListening(ListenAddress a) {
        listeners.stopListening(a);
    }

    private void closeListener(RdmaListener l) {
        byListenId.remove(l.id.address());
        l.id.close();
        LOG.info("nvmf: NVMe/RDMA target no longer listening on {} port {}", l.address.traddr(), l.address.trsvcid());
    }

    private RdmaDevice device(VerbsContext v) {
        RdmaDevice d = devices.get(v.address());
        if (d == null) {
            d = RdmaDevice.open(v, iobuf);
            devices.put(v.address(), d);
            RdmaDevice watched = d;
            asyncWatches.add(appThread.watchFd(d.asyncEvents().fd(), Epoll.EPOLLIN, ready -> asyncEvents(watched)));
            LOG.info("nvmf: RDMA device {}: protection domain allocated, iobuf registered; {}", d.name(),
                    d.attributes());
            RdmaDevice opened = d;
            for (RdmaPollGroup g : groups) {
                g.thread().send(() -> g.prepare(opened)); // its queues made now, not on a host's first connect
            }
        }
        return d;
    }

    // ---- asynchronous events of the devices (this thread reads them, their owners handle them: rule R2) ----

    private int asyncEvents(RdmaDevice d) {
        int n = 0;
        int rc;
        while ((rc = d.asyncEvents().next(asyncEvent)) > 0) {
            n++;
            AsyncEventType type = asyncEvent.type();
            String what = asyncEvent + " on " + d.name();
            if (type != null && type.aboutQueuePair()) {
                long context = asyncEvent.queuePairContext();
                int group = QueuePairContext.group(context);
                if (group < 0 || group >= groups.size()) {
                    LOG.warn("nvmf: RDMA {} for a queue pair of no poll group", what);
                    continue;
                }
                RdmaPollGroup g = groups.get(group);
                g.thread().send(() -> g.queuePairEvent(context, type, what));
            } else if (type == AsyncEventType.PORT_ACTIVE || type == AsyncEventType.LID_CHANGE
                    || type == AsyncEventType.PKEY_CHANGE || type == AsyncEventType.GID_CHANGE
                    || type == AsyncEventType.SM_CHANGE || type == AsyncEventType.CLIENT_REREGISTER
                    || type == AsyncEventType.SRQ_LIMIT_REACHED) {
                LOG.info("nvmf: RDMA {}", what);
            } else {
                LOG.error("nvmf: RDMA {}", what); // port down, a fatal device, queue or shared receive queue error
            }
        }
        if (rc < 0) {
            LOG.warn("nvmf: reading the async events of RDMA device {} failed ({})", d.name(), rc);
        }
        return n;
    }

    // ---- connect requests (the listeners' channel, this thread) ----

    private int cmEvents() {
        int n = 0;
        int rc;
        while ((rc = channel.next(event)) > 0) {
            n++;
            if (event.type() == CmEventType.CONNECT_REQUEST) {
                connectRequest();
            } else {
                LOG.info("nvmf: RDMA listener event {}", event);
            }
        }
        if (rc < 0) {
            LOG.warn("nvmf: reading the RDMA listeners' CM channel failed ({})", rc);
        }
        return n;
    }

    private void connectRequest() {
        CmId id = CmId.adopt(event.id());
        RdmaListener l = byListenId.get(event.listenId());
        ConnectRequest r = ConnectRequest.decode(event.privateData(), event.privateDataLength(),
                event.responderResources(), event.initiatorDepth());
        InetSocketAddress from = id.peerAddress();
        ListenAddress at = l != null ? l.address : new ListenAddress("RDMA", "IPv4", "?", "0");
        ListenAddress peer = new ListenAddress("RDMA", at.adrfam(),
                from != null ? from.getAddress().getHostAddress() : "?", from != null ? Integer.toString(from
                        .getPort()) : "0");
        int status = l == null || stopped ? RdmaCmPrivateData.STS_NO_RESOURCES : ConnectRequestCheck.status(r, options);
        RdmaDevice device = null;
        if (status == 0) {
            try {
                device = device(id.verbsContext());
            } catch (RdmaException e) {
                LOG.warn("nvmf: RDMA device of a connect request: {}", e.getMessage());
                status = RdmaCmPrivateData.STS_NO_RESOURCES;
            }
        }
        if (status != 0) {
            LOG.info("nvmf: RDMA connect request from {}:{} rejected: {}", peer.traddr(), peer.trsvcid(),
                    l == null || stopped ? "no listener" : ConnectRequestCheck.reason(r, status, options));
            RdmaPollGroup.reject(id, status);
            return;
        }
        RdmaPollGroup g = groups.get(nextGroup);
        nextGroup = (nextGroup + 1) % groups.size();
        RdmaDevice d = device;
        if (!g.thread().send(() -> g.accept(id, d, r, at, peer))) {
            RdmaPollGroup.reject(id, RdmaCmPrivateData.STS_NO_RESOURCES);
        }
    }

    // ---- statistics ----

    /** Collects every poll group's statistics (a message to each, rule R1); {@code done} runs on this thread. */
    @Override
    public void stats(Consumer<List<PollGroupStats>> done) {
        PollGroupFanOut.gatherStats(appThread, groups, done);
    }
}
