package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcState;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.HostTransports;
import io.keel.nvme.host.TransportPollGroup;
import io.keel.nvme.host.TransportId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nvme} bdev module (SPDK's {@code bdev_nvme}) over Keel's NVMe-oF host: remote controllers attached by
 * name, their namespaces served as bdevs {@code <name>n<nsid>}, with SPDK's RPCs, parameters and answers:
 * {@code bdev_nvme_set_options}, {@code bdev_nvme_attach_controller}, {@code bdev_nvme_detach_controller},
 * {@code bdev_nvme_get_controllers}, {@code bdev_nvme_reset_controller}, and discovery ({@link NvmeDiscovery}).
 * Controllers run on the application thread; each thread that uses a controller's bdevs gets its own I/O queue to
 * it, in that thread's poll group.
 */
public final class NvmeBdevModule implements BdevModule {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeBdevModule.class);

    record NameParams(String name) {
    }

    record ResetParams(@JsonProperty(required = true) String name, Integer cntlid) {
    }

    record PolicyParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String policy,
            String selector, Long rrMinIo) {
    }

    private final Supplier<KeelThread> appThread;
    private final BdevLayer layer;
    /** The host transports by SPDK's trtype, upper case (TCP, RDMA; tests add simulated ones). */
    private final Map<String, HostTransport> transports = new ConcurrentHashMap<>();
    private final IoDevice<NvmePollGroup> pollGroups = IoDevice.register("bdev_nvme_poll_groups", NvmePollGroup::new,
            NvmePollGroup::destroy);
    /** By name, in attach order (application thread). */
    private final Map<String, NvmeBdevCtrlr> controllers = new LinkedHashMap<>();
    /** The host ID (and NQN) used when an attach names none, one per process as nvme-cli's hostid file is. */
    private final UUID defaultHostId = UUID.randomUUID();
    private final NvmeDiscovery discovery = new NvmeDiscovery(this);
    private volatile NvmeOptions options = NvmeOptions.defaults();
    /** The application thread's poll group for admin queues (I/O queues have the io_device's, per thread). */
    private HostPollGroup adminGroup;

    private NvmeBdevModule(Supplier<KeelThread> appThread, BdevLayer layer) {
        this.appThread = appThread;
        this.layer = layer;
        HostTransports.all().forEach(this::addTransport);
    }

    /**
     * The module on {@code layer}, its controllers on {@code appThread}, without RPC methods: for running it where
     * there is no application (the deterministic simulation); {@link #register} is the application's way.
     */
    static NvmeBdevModule create(Supplier<KeelThread> appThread, BdevLayer layer) {
        NvmeBdevModule m = new NvmeBdevModule(appThread, layer);
        layer.addModule(m);
        return m;
    }

    /** Makes {@code t} the transport of its trtype (a simulation test replaces TCP with a simulated one). */
    void addTransport(HostTransport t) {
        transports.put(t.name().toUpperCase(Locale.ROOT), t);
    }

    public static void register(KeelApp app, BdevLayer layer) {
        NvmeBdevModule m = create(app::appThread, layer);
        app.methods().register("bdev_nvme_set_options", SetOptionsParams.class, (p, call) -> {
            m.setOptions(p);
            call.respond(true);
        }, RpcState.STARTUP, RpcState.RUNTIME);
        app.methods().register("bdev_nvme_attach_controller", AttachParams.class, m::attach);
        app.methods().register("bdev_nvme_detach_controller", DetachParams.class, m::detach);
        app.methods().register("bdev_nvme_get_controllers", NameParams.class,
                (p, call) -> call.respond(m.getControllers(p == null ? null : p.name())));
        app.methods().register("bdev_nvme_reset_controller", ResetParams.class, m::reset);
        app.methods().register("bdev_nvme_get_io_paths", NameParams.class, m::getIoPaths);
        app.methods().register("bdev_nvme_get_transport_statistics", Void.class,
                (p, call) -> m.getTransportStatistics(call));
        app.methods().register("bdev_nvme_set_multipath_policy", PolicyParams.class, (p, call) -> {
            m.setMultipathPolicy(p);
            call.respond(true);
        });
        m.discovery.register(app);
    }

    @Override
    public String name() {
        return "nvme";
    }

    NvmeOptions options() {
        return options;
    }

    BdevLayer layer() {
        return layer;
    }

    KeelThread thread() {
        return appThread.get();
    }

    IoDevice<NvmePollGroup> pollGroups() {
        return pollGroups;
    }

    /** The application thread's poll group for admin queues. Application thread. */
    HostPollGroup adminPollGroup() {
        if (adminGroup == null) {
            adminGroup = new HostPollGroup(appThread.get());
        }
        return adminGroup;
    }

    /** The transport of SPDK's {@code trtype} (any case), or null. */
    HostTransport transport(String trtype) {
        return transports.get(trtype.toUpperCase(Locale.ROOT));
    }

    UUID defaultHostId() {
        return defaultHostId;
    }

    /** The named controllers, in attach order. Application thread. */
    Collection<NvmeBdevCtrlr> controllers() {
        return controllers.values();
    }

    // ---- RPCs ----

    private void setOptions(SetOptionsParams p) {
        if (!controllers.isEmpty()) {
            throw RpcException.errno(Errno.EPERM, "RPC not permitted as NVMe controllers are attached");
        }
        options = (p == null ? new SetOptionsParams(null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null) : p).apply(options);
    }

    /** How an attach ended: the path and the bdev names, or null and the error. */
    @FunctionalInterface
    interface AttachDone {
        void done(NvmeCtrlr path, List<String> bdevs, String error);
    }

    void attach(AttachParams p, RpcCall call) {
        attach(p, (c, names, err) -> {
            if (err == null) {
                call.respond(names);
            } else {
                call.fail(-Errno.EIO, "Unable to attach " + p.name() + ": " + err);
            }
        });
    }

    /**
     * {@code bdev_nvme_attach_controller} for the RPC and for discovery: an RpcException at once for parameters or
     * a path it refuses, otherwise {@code done} later.
     */
    void attach(AttachParams p, AttachDone done) {
        ControllerConfig config = resolve(p);
        NvmeBdevCtrlr group = controllers.get(p.name());
        if (group != null) {
            if (config.multipath().equals("disable")) {
                throw RpcException.errno(Errno.EEXIST, "A controller named " + p.name() + " already exists and "
                        + "multipath is disabled");
            }
            for (NvmeCtrlr c : group.paths()) {
                if (c.trids().stream().anyMatch(t -> sameTrid(t, config.trid()))) {
                    throw RpcException.errno(Errno.EEXIST, "A controller named " + p.name()
                            + " already exists with the provided trid (traddr: " + config.trid().traddr() + ")");
                }
                if (!c.trid().subnqn().equals(config.trid().subnqn())) {
                    throw RpcException.errno(Errno.EINVAL, "A controller named " + p.name()
                            + " already exists with a different subsystem NQN");
                }
            }
            if (config.multipath().equals("failover") && !group.paths().isEmpty()) {
                // SPDK's failover: one controller, this address kept for when the one in use is lost
                group.paths().get(0).addTrid(config.trid());
                done.done(group.paths().get(0), group.bdevs().values().stream().map(NvmeBdev::name).toList(), null);
                return;
            }
        } else {
            group = new NvmeBdevCtrlr(p.name(), this);
            controllers.put(p.name(), group);
        }
        NvmeBdevCtrlr g = group;
        NvmeCtrlr c = new NvmeCtrlr(this, g, adminPollGroup(), config);
        g.addPath(c);
        c.attach(err -> {
            if (err != null) {
                LOG.warn("nvme: attach of {} ({}:{} {}) failed: {}", p.name(), config.trid().traddr(),
                        config.trid().trsvcid(), config.trid().subnqn(), err);
                g.deletePath(c, () -> done.done(null, null, err));
                return;
            }
            done.done(c, g.attached(c), null);
        });
    }

    /**
     * The transport of {@code trtype}, usable now: an RpcException naming the trtype when there is none, or saying
     * what is missing (RDMA without a device, for one), logged, when it cannot be used here.
     */
    HostTransport usableTransport(String trtype) {
        HostTransport transport = transport(trtype);
        if (transport == null) {
            throw RpcException.errno(Errno.EINVAL, "trtype " + trtype + " is not supported (TCP or RDMA)");
        }
        String why = transport.unavailable();
        if (why != null) {
            LOG.warn("nvme: trtype {} is not usable here: {}", transport.name(), why);
            throw RpcException.errno(Errno.ENODEV, why);
        }
        return transport;
    }

    private ControllerConfig resolve(AttachParams p) {
        HostTransport transport = usableTransport(p.trtype());
        if (p.subnqn() == null) {
            throw RpcException.invalidParams("subnqn is required for NVMe-oF");
        }
        if (p.psk() != null || p.dhchapKey() != null || p.dhchapCtrlrKey() != null) {
            throw RpcException.errno(Errno.EINVAL, "TLS and DH-HMAC-CHAP are not supported");
        }
        if (p.priority() != null && !p.priority().equals("0")) {
            throw RpcException.errno(Errno.EINVAL, "priority is not supported");
        }
        String mp = p.multipath() == null ? "failover" : p.multipath().toLowerCase(Locale.ROOT);
        if (!List.of("disable", "failover", "multipath").contains(mp)) {
            throw RpcException.invalidParams("multipath must be disable, failover or multipath, not " + p.multipath());
        }
        TransportId trid;
        try {
            trid = new TransportId(transport.name(), p.adrfam() == null ? "IPv4" : p.adrfam(), p.traddr(),
                    p.trsvcid() == null ? TransportId.DEFAULT_PORT : Integer.parseInt(p.trsvcid()), p.subnqn());
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
        NvmeOptions o = options;
        ReconnectPolicy policy = new ReconnectPolicy(
                p.ctrlrLossTimeoutSec() != null ? p.ctrlrLossTimeoutSec() : o.ctrlrLossTimeoutSec(),
                p.reconnectDelaySec() != null ? p.reconnectDelaySec() : o.reconnectDelaySec(),
                p.fastIoFailTimeoutSec() != null ? p.fastIoFailTimeoutSec() : o.fastIoFailTimeoutSec());
        long queues = p.numIoQueues() == null ? 1024 : p.numIoQueues();
        if (queues < 1 || queues > 65536) {
            throw RpcException.invalidParams("num_io_queues must be 1..65536");
        }
        String hostNqn = p.hostnqn() != null ? p.hostnqn() : ControllerOptions.hostNqnOf(defaultHostId);
        long connectUs = p.fabricsConnectTimeoutUs() != null ? p.fabricsConnectTimeoutUs() : 0;
        long connectMs = connectUs > 0 ? Math.max(connectUs / 1000, 1)
                : o.tcpConnectTimeoutMs() > 0 ? o.tcpConnectTimeoutMs() : 10_000;
        ControllerOptions host = new ControllerOptions(hostNqn, defaultHostId, o.keepAliveTimeoutMs(),
                Boolean.TRUE.equals(p.hdgst()), Boolean.TRUE.equals(p.ddgst()), (int) Math.min(queues, 65535), 32,
                connectMs, 10_000);
        return new ControllerConfig(p.name(), trid, transport, host, policy, mp, connectUs,
                p.hostaddr(), p.hostsvcid(), Boolean.TRUE.equals(p.prchkReftag()), Boolean.TRUE.equals(p.prchkGuard()),
                (int) queues);
    }

    static boolean sameTrid(TransportId a, TransportId b) {
        return a.trtype().equalsIgnoreCase(b.trtype()) && a.traddr().equals(b.traddr()) && a.trsvcid() == b.trsvcid()
                && a.subnqn().equals(b.subnqn());
    }

    void detach(DetachParams p, RpcCall call) {
        NvmeBdevCtrlr g = controllers.get(p.name());
        List<NvmeCtrlr> chosen = g == null ? List.of()
                : g.paths().stream().filter(c -> !c.matching(p).isEmpty()).toList();
        if (chosen.isEmpty()) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        int[] left = {chosen.size()};
        Runnable one = () -> {
            if (--left[0] == 0) {
                call.respond(true);
            }
        };
        for (NvmeCtrlr c : chosen) {
            List<TransportId> named = c.matching(p);
            if (named.size() == c.trids().size()) {
                g.deletePath(c, one); // every address of the path: the path goes
            } else {
                c.removeTrids(named, one); // some failover addresses go; the path stays
            }
        }
    }

    void reset(ResetParams p, RpcCall call) {
        NvmeBdevCtrlr g = controllers.get(p.name());
        if (g == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        if (p.cntlid() != null) {
            NvmeCtrlr c = g.paths().stream().filter(x -> x.data() != null && x.data().cntlid() == p.cntlid())
                    .findFirst().orElse(null);
            if (c == null) {
                call.fail(-Errno.ENODEV, "No such device");
                return;
            }
            c.reset(err -> answerReset(call, err));
            return;
        }
        g.resetAll(err -> answerReset(call, err));
    }

    private static void answerReset(RpcCall call, String err) {
        if (err == null) {
            call.respond(true);
        } else {
            call.fail(-Errno.ENXIO, err);
        }
    }

    ArrayNode getControllers(String name) {
        if (name != null && !controllers.containsKey(name)) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (NvmeBdevCtrlr g : controllers.values()) {
            if (name != null && !g.name().equals(name)
                    || g.paths().stream().allMatch(c -> c.state() == NvmeCtrlr.State.ATTACHING)) {
                continue; // a name still attaching its first path, or whose last path is gone, is not listed
            }
            ObjectNode o = out.addObject();
            o.put("name", g.name());
            ArrayNode ctrlrs = o.putArray("ctrlrs");
            for (NvmeCtrlr c : g.paths()) {
                if (c.state() == NvmeCtrlr.State.ATTACHING) {
                    continue;
                }
                ObjectNode e = ctrlrs.addObject();
                e.put("state", c.state().wireName);
                e.set("trid", c.tridJson());
                if (!c.alternates().isEmpty()) {
                    ArrayNode alt = e.putArray("alternate_trids");
                    c.alternates().forEach(t -> alt.add(c.config().withTrid(t).tridJson()));
                }
                e.put("cntlid", c.data() == null ? 0 : c.data().cntlid());
                ObjectNode h = e.putObject("host");
                h.put("nqn", c.config().hostOptions().hostNqn());
                h.put("addr", c.config().hostaddr() == null ? "" : c.config().hostaddr());
                h.put("svcid", c.config().hostsvcid() == null ? "" : c.config().hostsvcid());
                h.put("no_shn_notification", false);
            }
        }
        return out;
    }

    private void setMultipathPolicy(PolicyParams p) {
        if (!(layer.get(p.name()) instanceof NvmeBdev b)) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        if (!List.of("active_passive", "active_active").contains(p.policy())) {
            throw RpcException.invalidParams("policy must be active_passive or active_active, not " + p.policy());
        }
        String selector = p.selector() == null ? "round_robin" : p.selector();
        if (!List.of("round_robin", "queue_depth").contains(selector)) {
            throw RpcException.invalidParams("selector must be round_robin or queue_depth, not " + selector);
        }
        if (p.selector() != null && p.policy().equals("active_passive")) {
            throw RpcException.invalidParams("selector applies to active_active only");
        }
        long rr = p.rrMinIo() == null ? 1 : p.rrMinIo();
        if (rr < 1 || rr > Integer.MAX_VALUE) {
            throw RpcException.invalidParams("rr_min_io must be at least 1");
        }
        if (p.rrMinIo() != null && !(p.policy().equals("active_active") && selector.equals("round_robin"))) {
            throw RpcException.invalidParams("rr_min_io applies to the active_active round_robin selector only");
        }
        b.policy(p.policy(), selector, (int) rr);
    }

    /** Visits every thread's poll group (the threads with I/O queues), in thread order. */
    private void eachPollGroup(java.util.function.BiConsumer<KeelThread, NvmePollGroup> fn, Runnable done) {
        pollGroups.forEachChannel((it, ch) -> {
            fn.accept(ch.thread(), ch.context());
            it.next(0);
        }, rc -> done.run());
    }

    private void getIoPaths(NameParams p, RpcCall call) {
        String name = p == null ? null : p.name();
        if (name != null && !(layer.get(name) instanceof NvmeBdev)) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        ObjectNode out = Json.object();
        ArrayNode groups = out.putArray("poll_groups");
        boolean withStats = options.ioPathStat();
        eachPollGroup((thread, pg) -> {
            ObjectNode g = Json.object();
            g.put("thread", thread.name());
            ArrayNode paths = g.putArray("io_paths");
            for (NvmeBdevChannel ch : pg.bdevChannels) {
                if (name != null && !ch.bdev().name().equals(name)) {
                    continue;
                }
                for (NvmeBdevChannel.IoPath path : ch.paths()) {
                    paths.add(ioPathJson(ch, path, withStats));
                }
            }
            if (!paths.isEmpty()) {
                groups.add(g); // one thread after another, each visit a message after the last: no race
            }
        }, () -> call.respond(out));
    }

    private static ObjectNode ioPathJson(NvmeBdevChannel ch, NvmeBdevChannel.IoPath path, boolean withStats) {
        NvmeCtrlr c = path.ns.ctrlr();
        ObjectNode e = Json.object();
        e.put("bdev_name", ch.bdev().name());
        e.put("cntlid", c.data() == null ? 0 : c.data().cntlid());
        e.put("current", ch.current() == path);
        HostQpair q = path.channel.context().qpair();
        e.put("connected", q != null && q.state() == HostQpair.State.CONNECTED);
        e.put("accessible", io.keel.nvme.host.AnaState.accessible(path.ana()));
        ObjectNode t = e.putObject("transport");
        ObjectNode trid = c.tridJson();
        t.set("trtype", trid.get("trtype"));
        t.set("traddr", trid.get("traddr"));
        t.set("trsvcid", trid.get("trsvcid"));
        t.set("adrfam", trid.get("adrfam"));
        if (withStats) {
            ObjectNode st = e.putObject("io_stat");
            st.put("bytes_read", path.readBytes);
            st.put("num_read_ops", path.readOps);
            st.put("bytes_written", path.writeBytes);
            st.put("num_write_ops", path.writeOps);
            st.put("num_other_ops", path.otherOps);
        }
        return e;
    }

    private void getTransportStatistics(RpcCall call) {
        ObjectNode out = Json.object();
        ArrayNode groups = out.putArray("poll_groups");
        eachPollGroup((thread, pg) -> {
            HostPollGroup h = pg.group;
            ObjectNode g = Json.object();
            g.put("thread", thread.name());
            ArrayNode transports = g.putArray("transports");
            // the group's own counters are TCP's: shown unless only another transport has used the group
            if (h.transportGroups().isEmpty() || h.polls() > 0) {
                ObjectNode t = transports.addObject();
                t.put("trname", "TCP");
                t.put("polls", h.polls());
                t.put("idle_polls", h.idlePolls());
                t.put("socket_completions", h.socketCompletions());
                t.put("nvme_completions", h.completions());
                t.put("queued_requests", h.queued());
                t.put("submitted_requests", h.submitted());
            }
            for (TransportPollGroup tg : h.transportGroups()) {
                ObjectNode o = transports.addObject();
                o.put("trname", tg.transportName());
                tg.statistics(o);
            }
            groups.add(g);
        }, () -> call.respond(out));
    }

    /** A name with no path (nor one being deleted) and no bdev left is forgotten. */
    void forgetIfEmpty(NvmeBdevCtrlr g) {
        if (g.paths().isEmpty() && g.deleting().isEmpty() && g.bdevs().isEmpty() && controllers.get(g.name()) == g) {
            controllers.remove(g.name());
        }
    }

    // ---- config and shutdown ----

    @Override
    public List<ConfigEntry> config() {
        List<ConfigEntry> out = new ArrayList<>();
        out.add(new ConfigEntry("bdev_nvme_set_options", Json.tree(options)));
        for (NvmeBdevCtrlr g : controllers.values()) {
            for (NvmeCtrlr c : g.paths()) {
                if (discovery.attached(c)) {
                    continue; // its bdev_nvme_start_discovery makes it again
                }
                for (TransportId t : c.trids()) {
                    out.add(new ConfigEntry("bdev_nvme_attach_controller",
                            c.config().withTrid(t).saveParams(options.multipathOpts())));
                }
            }
        }
        for (NvmeBdevCtrlr g : controllers.values()) {
            for (NvmeBdev b : g.bdevs().values()) {
                if (!b.policy().equals(options.multipathOpts().policy()) || !b.selector().equals("round_robin")
                        || b.rrMinIo() != 1) {
                    ObjectNode p = Json.object();
                    p.put("name", b.name());
                    p.put("policy", b.policy());
                    p.put("selector", b.selector());
                    p.put("rr_min_io", b.rrMinIo());
                    out.add(new ConfigEntry("bdev_nvme_set_multipath_policy", p));
                }
            }
        }
        out.addAll(discovery.config());
        return out;
    }

    @Override
    public void fini(Runnable done) {
        discovery.stopAll(() -> deleteAll(done)); // as SPDK: discovery first, so it attaches nothing more
    }

    private void deleteAll(Runnable done) {
        List<NvmeBdevCtrlr> groups = List.copyOf(controllers.values());
        int[] left = {1};
        Runnable step = () -> {
            if (--left[0] == 0) {
                if (adminGroup != null) {
                    adminGroup.close();
                    adminGroup = null;
                }
                done.run();
            }
        };
        for (NvmeBdevCtrlr g : groups) {
            for (NvmeCtrlr c : List.copyOf(g.deleting())) { // a path already going (its loss timeout ended)
                left[0]++;
                c.whenDeleted(step);
            }
            for (NvmeCtrlr c : List.copyOf(g.paths())) {
                left[0]++;
                g.deletePath(c, step);
            }
        }
        step.run();
    }
}
