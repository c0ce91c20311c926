package io.keel.nvmf;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.Uuids;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.KeelThread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import io.keel.core.iobuf.IoBufSubsystem;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ControllerManager;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.rdma.RdmaTransport;
import io.keel.nvmf.tcp.TcpTransport;
import io.keel.nvmf.transport.QpairRegistry;
import io.keel.nvmf.transport.Transport;
import java.io.IOException;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's NVMe-oF target (SPDK's {@code spdk_nvmf_tgt} named "nvmf_tgt"): its transports and subsystems.
 * Reached with {@code app.service(Target.class)}. Owned by the application thread: every method here runs there.
 */
public final class Target {
    private static final Logger LOG = LoggerFactory.getLogger(Target.class);

    /** SPDK's default target name ({@code tgt_name} may name only this one). */
    public static final String NAME = "nvmf_tgt";
    /** The module name under which namespaces claim their bdevs. */
    static final BdevModule CLAIMANT = () -> "nvmf";
    static final String DEFAULT_SERIAL = "00000000000000000000";
    /** Keel's own default model number (SPDK's is "SPDK bdev Controller"). */
    static final String DEFAULT_MODEL = "Keel bdev Controller";
    static final long DEFAULT_MAX_NAMESPACES = 32;
    static final int MIN_CNTLID = 1;
    static final int MAX_CNTLID = 0xFFEF;

    private final KeelApp app;
    private final Map<String, TransportOptions> transports = new LinkedHashMap<>();
    private final Map<String, NvmfSubsystem> subsystems = new LinkedHashMap<>();
    private NvmfConfig config = NvmfConfig.DEFAULTS;
    private long maxSubsystems = 1024;
    private boolean started;
    private final ControllerManager controllers;
    /** Made when the target starts (the application thread exists from then). */
    private QpairRegistry registry;
    /** The running transports by trtype (made from {@link #transports} once the target starts). */
    private final Map<String, Transport> running = new LinkedHashMap<>();

    Target(KeelApp app) {
        this.app = app;
        this.controllers = new ControllerManager(this, NvmfSubsystem::listeners);
    }

    /** The controllers of every subsystem (application thread). */
    public ControllerManager controllers() {
        return controllers;
    }

    /** The bound qpairs of every transport, per controller (application thread; once the target started). */
    public QpairRegistry qpairs() {
        return registry;
    }

    /** The running transports, in the order they were made (application thread). */
    public List<Transport> runningTransports() {
        return List.copyOf(running.values());
    }

    public static Target of(KeelApp app) {
        return app.service(Target.class);
    }

    private void onAppThread() {
        if (KeelThread.current() != app.appThread()) {
            throw new IllegalStateException("the NVMe-oF target is owned by the application thread");
        }
    }

    // ---- lifecycle ----

    void start() {
        onAppThread();
        if (!started) {
            started = true;
            registry = new QpairRegistry(app.appThread(), app.runtime().clock(), controllers);
            subsystems.put(Nqn.DISCOVERY, new NvmfSubsystem(Nqn.DISCOVERY, NvmfSubsystem.Type.DISCOVERY, null, true));
            transports.values().forEach(this::startTransport);
        }
    }

    /**
     * Closes every connection and poll group, then deletes every subsystem (closing namespaces releases their
     * claims) and forgets the transports; {@code done} runs on the application thread.
     */
    void stop(Runnable done) {
        onAppThread();
        // controllers first: their held AERs are answered by messages the poll groups still take (they get
        // their stop message after those, from the same sender)
        for (NvmfSubsystem s : new ArrayList<>(subsystems.values())) {
            for (Controller c : controllers.controllers(s.nqn())) {
                controllers.destroy(c);
            }
        }
        Runnable rest = () -> {
            for (NvmfSubsystem s : new ArrayList<>(subsystems.values())) {
                destroy(s);
            }
            subsystems.clear();
            transports.clear();
            running.clear();
            if (registry != null) {
                registry.stopped();
            }
            done.run();
        };
        if (registry != null) {
            registry.stop();
        }
        List<Transport> all = List.copyOf(running.values());
        int[] left = {all.size()};
        if (all.isEmpty()) {
            rest.run();
        }
        all.forEach(t -> t.stop(() -> {
            if (--left[0] == 0) {
                rest.run();
            }
        }));
    }

    // ---- settings ----

    NvmfConfig config() {
        return config;
    }

    void config(NvmfConfig c) {
        config = c;
    }

    long maxSubsystems() {
        return maxSubsystems;
    }

    void maxSubsystems(long n) {
        maxSubsystems = n;
    }

    // ---- transports ----

    public List<TransportOptions> transports() {
        return List.copyOf(transports.values());
    }

    public TransportOptions transport(String trtype) {
        return transports.get(trtype.toUpperCase(java.util.Locale.ROOT));
    }

    void addTransport(TransportOptions t) {
        if (transports.containsKey(t.trtype())) {
            throw RpcException.invalidParams("Transport type '" + t.trtype() + "' already exists");
        }
        transports.put(t.trtype(), t);
        if (started) {
            startTransport(t);
        } // else (nvmf_create_transport before framework_start_init): at start(), once iobuf is up
        LOG.info("nvmf: transport {} created", t.trtype());
    }

    private void startTransport(TransportOptions o) {
        Transport t = switch (o.trtype()) {
            case "TCP" -> new TcpTransport(app.appThread(), app.runtime(), IoBufSubsystem.of(app), registry, o);
            case "RDMA" -> new RdmaTransport(app.appThread(), app.runtime(), IoBufSubsystem.of(app), registry, o);
            default -> throw new IllegalStateException("no " + o.trtype() + " transport"); // refused at create
        };
        running.put(o.trtype(), t);
        t.start();
        registry.start();
    }

    // ---- listeners ----

    /** Adds a listener to {@code s}, listening on it if no other subsystem does (SPDK's errors otherwise). */
    void addListener(NvmfSubsystem s, ListenAddress a) {
        onAppThread();
        Transport t = running.get(a.trtype());
        if (t == null) {
            throw RpcException.invalidParams("Unable to find " + a.trtype() + " transport: create it first");
        }
        if (s.listeners().contains(a)) {
            throw RpcException.invalidParams("Listener " + a.traddr() + ":" + a.trsvcid() + " already exists in "
                    + s.nqn());
        }
        try {
            t.listen(a);
        } catch (IOException | RuntimeException e) {
            LOG.warn("nvmf: cannot listen on {}:{}: {}", a.traddr(), a.trsvcid(), e.toString());
            throw RpcException.invalidParams("cannot listen on " + a.traddr() + ":" + a.trsvcid() + ": "
                    + e.getMessage());
        }
        s.addListener(a);
        controllers.discoveryLogChanged();
    }

    void removeListener(NvmfSubsystem s, ListenAddress a) {
        onAppThread();
        if (!s.removeListener(a)) {
            throw RpcException.invalidParams("no listener " + a.traddr() + ":" + a.trsvcid() + " in " + s.nqn());
        }
        registry.disconnect(s, a);
        running.get(a.trtype()).stopListening(a);
        controllers.discoveryLogChanged();
    }

    /** The hosts allowed to {@code s} changed; {@code removedHost} (if any) loses its controllers. */
    void hostsChanged(NvmfSubsystem s, String removedHost) {
        if (removedHost != null && registry != null && !s.hostAllowed(removedHost)) {
            registry.disconnect(s, removedHost, "host removed from the subsystem");
        }
        controllers.discoveryLogChanged();
    }

    /**
     * The I/O queues of {@code s} take its new namespace table and drain the namespaces it dropped; then
     * {@code applied} runs (closing a removed namespace's descriptor) and the controllers raise their Namespace
     * Attribute Changed events; {@code done} last.
     */
    private void namespaceChanged(NvmfSubsystem s, long nsid, Runnable applied, Runnable done) {
        Runnable after = () -> {
            applied.run();
            controllers.namespaceChanged(s.nqn(), nsid);
            done.run();
        };
        if (registry == null) {
            after.run(); // not started: no queue to tell
        } else {
            registry.namespacesChanged(s, after);
        }
    }

    // ---- subsystems ----

    public List<NvmfSubsystem> subsystems() {
        return List.copyOf(subsystems.values());
    }

    public NvmfSubsystem subsystem(String nqn) {
        return subsystems.get(nqn);
    }

    /** The subsystem, or SPDK's error for an unknown NQN (-32602). */
    NvmfSubsystem find(String nqn) {
        NvmfSubsystem s = subsystems.get(nqn);
        if (s == null || s.state != NvmfSubsystem.State.ACTIVE) {
            throw new RpcException(RpcException.INVALID_PARAMS, "Subsystem with NQN '" + nqn + "' not found");
        }
        return s;
    }

    NvmfSubsystem create(String nqn, NvmfSubsystem.Options o, boolean allowAnyHost) {
        onAppThread();
        String problem = Nqn.problem(nqn);
        if (problem == null && nqn.equals(Nqn.DISCOVERY)) {
            problem = "the discovery NQN names the discovery subsystem";
        }
        if (problem == null && subsystems.containsKey(nqn)) {
            problem = "Subsystem NQN '" + nqn + "' already exists";
        }
        if (problem == null && subsystems.size() >= maxSubsystems) {
            problem = "no free subsystem slot (max_subsystems " + maxSubsystems + ")";
        }
        if (problem != null) {
            LOG.info("nvmf: cannot create subsystem {}: {}", nqn, problem);
            throw RpcException.internal("Unable to create subsystem " + nqn + ": " + problem);
        }
        NvmfSubsystem s = new NvmfSubsystem(nqn, NvmfSubsystem.Type.NVME, o, allowAnyHost);
        subsystems.put(nqn, s);
        controllers.discoveryLogChanged();
        LOG.info("nvmf: subsystem {} created", nqn);
        return s;
    }

    /**
     * Starts deleting a subsystem: it stops accepting changes at once; its namespaces close (releasing their bdevs)
     * and it leaves the target one message later, when {@code done} runs (rule R4). -32603 if deletion is under way.
     */
    void delete(NvmfSubsystem s, Runnable done) {
        onAppThread();
        if (s.type() == NvmfSubsystem.Type.DISCOVERY) {
            throw RpcException.invalidParams("the discovery subsystem cannot be deleted");
        }
        if (s.state != NvmfSubsystem.State.ACTIVE) {
            throw RpcException.internal("Subsystem is already being destroyed.");
        }
        s.state = NvmfSubsystem.State.DELETING;
        if (registry != null) {
            registry.disconnect(s, null, "subsystem deleted");
        }
        s.listeners().forEach(a -> {
            s.removeListener(a);
            running.get(a.trtype()).stopListening(a);
        });
        controllers.discoveryLogChanged();
        app.appThread().send(() -> {
            destroy(s);
            subsystems.remove(s.nqn(), s);
            LOG.info("nvmf: subsystem {} deleted", s.nqn());
            done.run();
        });
    }

    private void destroy(NvmfSubsystem s) {
        for (Namespace ns : s.takeAllNamespaces()) {
            ns.close();
        }
        s.state = NvmfSubsystem.State.DELETED;
    }

    // ---- namespaces ----

    /** What {@code nvmf_subsystem_add_ns} asks for; nulls take SPDK's defaults. */
    record NsRequest(long nsid, String bdevName, byte[] nguid, byte[] eui64, UUID uuid, Long anagrpid,
            boolean noAutoVisible) {
    }

    /**
     * Adds a namespace: opens and claims the bdev (application thread); {@code done} gets the NSID once every
     * I/O queue of the subsystem has it. -32602 (thrown) when it cannot be added.
     */
    void addNamespace(NvmfSubsystem s, NsRequest r, LongConsumer done) {
        onAppThread();
        if (s.type() != NvmfSubsystem.Type.NVME) {
            throw invalid("the discovery subsystem has no namespaces");
        }
        long max = s.options().maxNamespaces();
        long nsid = r.nsid();
        if (nsid == 0) {
            nsid = s.freeNsid();
            if (nsid == 0) {
                throw invalid("subsystem " + s.nqn() + " already has max_namespaces (" + max + ") namespaces");
            }
        } else if (nsid > max) {
            throw invalid("NSID " + nsid + " is more than max_namespaces (" + max + ")");
        } else if (s.namespace(nsid) != null) {
            throw invalid("NSID " + nsid + " is already in use in " + s.nqn());
        }
        long anagrpid = r.anagrpid() == null || r.anagrpid() == 0 ? nsid : r.anagrpid();
        if (anagrpid > max) {
            throw invalid("ANA group ID " + anagrpid + " is more than max_namespaces (" + max + ")");
        }
        long id = nsid;
        BdevLayer layer = BdevLayer.of(app);
        BdevDesc desc;
        try {
            desc = layer.open(r.bdevName(), true, (event, bdev) -> onBdevEvent(s, id, event, bdev));
        } catch (BdevException e) {
            throw invalid("bdev " + r.bdevName() + ": " + e.getMessage());
        }
        try {
            layer.claim(desc, CLAIMANT);
        } catch (BdevException e) {
            desc.close();
            throw invalid("bdev " + r.bdevName() + " cannot be claimed: " + e.getMessage());
        }
        Bdev b = desc.bdev();
        UUID uuid = r.uuid() != null ? r.uuid() : b.uuid();
        byte[] nguid = r.nguid() != null && !allZero(r.nguid()) ? r.nguid() : Uuids.bytes(b.uuid());
        byte[] eui64 = r.eui64() != null && !allZero(r.eui64()) ? r.eui64() : null;
        s.put(new Namespace(app.appThread(), s, id, desc, nguid, eui64, uuid, anagrpid, r.noAutoVisible()));
        LOG.info("nvmf: {} namespace {} is bdev {}", s.nqn(), id, b.name());
        namespaceChanged(s, id, () -> { }, () -> done.accept(id));
    }

    /** Removes a namespace; its bdev is released and {@code done} runs once the I/O queues drained it. */
    void removeNamespace(NvmfSubsystem s, long nsid, Runnable done) {
        onAppThread();
        Namespace ns = s.type() == NvmfSubsystem.Type.NVME ? s.remove(nsid) : null;
        if (ns == null) {
            throw invalid("no namespace " + nsid + " in " + s.nqn());
        }
        LOG.info("nvmf: {} namespace {} removed", s.nqn(), nsid);
        namespaceChanged(s, nsid, ns::close, done);
    }

    /** A bdev removed under a namespace takes the namespace with it (as SPDK's hot-remove does). */
    private void onBdevEvent(NvmfSubsystem s, long nsid, BdevEvent event, Bdev bdev) {
        if (event != BdevEvent.REMOVE) {
            return;
        }
        Namespace ns = s.namespace(nsid);
        if (ns != null && ns.desc().bdev() == bdev) {
            s.remove(nsid);
            namespaceChanged(s, nsid, ns::close, () -> { });
            LOG.info("nvmf: {} namespace {} removed with its bdev {}", s.nqn(), nsid, bdev.name());
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static RpcException invalid(String why) {
        return RpcException.invalidParams(why);
    }
}
