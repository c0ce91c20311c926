package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.ConfigEntry;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.DiscoveryLogPage;
import io.keel.nvme.host.DiscoveryLogReader;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.TransportId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One discovery service ({@code bdev_nvme_start_discovery}, SPDK's {@code discovery_ctx}) on the application thread:
 * a connection to a discovery controller, kept with keep-alives, whose Discovery Log Page it reads when it connects
 * and at every Discovery Log Page Change notice. Each NVM subsystem entry is attached through the module's own
 * attach path (multipath mode, the service's host NQN and reconnect settings); the path of an entry that left the
 * page is deleted; {@link #stop} deletes every path the service attached and closes the discovery controller.
 *
 * <p>Names are SPDK's: the first entry of a subsystem is attached as {@code <name><n>}, n counting from 0 for each
 * service and never reused; another entry of a subsystem some discovery service attached already (another port)
 * becomes a further path of that name. Entries are compared whole with those already attached, as SPDK compares
 * them byte for byte. An entry whose attach fails is forgotten, so the next read tries it again; one whose
 * transport ID another controller already has is skipped ("File exists", as SPDK logs it). A path that is deleted
 * from outside (by {@code bdev_nvme_detach_controller} or its ctrlr_loss_timeout_sec) is forgotten and the log read
 * again, so a subsystem still listed is attached again, as SPDK does it by failing its discovery controller.
 *
 * <p>The page's discovery entries (the current subsystem and referrals) are what {@code bdev_nvme_get_discovery_info}
 * shows as {@code referrals}, and where the service connects in turn when it loses its connection or cannot make
 * it, one second later each time (SPDK's discovery poller period); the paths it attached stay meanwhile, under their
 * own reconnect settings.
 *
 * <p>States (R5): CONNECTING → CONNECTED → (connection lost or a log read failed) RECONNECT_DELAYED → CONNECTING;
 * any → STOPPING → STOPPED. One round (a log read, then its attaches, then the deletes) runs at a time; a notice
 * during a round runs another round after it. Every step is bounded by the host's timeouts; a start that waits for
 * its first round is bounded by {@code attach_timeout_ms} when given (after which, as in SPDK, the service stops;
 * without it the start waits, as SPDK's does, until the first round ends or the service is stopped). Unlike SPDK, the
 * first round ends the wait even when the log lists no subsystem, and a failed attach is tried again at the next read.
 */
final class DiscoveryService implements HostController.Listener {
    enum State { CONNECTING, CONNECTED, RECONNECT_DELAYED, STOPPING, STOPPED }

    /** How a start that waits for its first round ends: errno 0, or a negative errno and its text. */
    @FunctionalInterface
    interface Started {
        void started(int errno, String message);
    }

    /** An NVM subsystem entry the service attached (or is attaching): its name and its path once attached. */
    private static final class NvmEntry {
        final DiscoveryLogPage.Entry entry;
        final String name;
        final TransportId trid;
        NvmeCtrlr path;

        NvmEntry(DiscoveryLogPage.Entry entry, String name, TransportId trid) {
            this.entry = entry;
            this.name = name;
            this.trid = trid;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(DiscoveryService.class);
    private static final long RECONNECT_DELAY_US = 1_000_000;
    private static final int ECANCELED = 125;

    private final NvmeDiscovery registry;
    private final NvmeBdevModule module;
    private final KeelThread thread;
    private final String name;
    private final TransportId trid;
    private final String hostnqn;
    private final boolean waitForAttach;
    private final long attachTimeoutMs;
    private final ReconnectPolicy policy;
    private final ControllerOptions hostOptions;

    private State state = State.CONNECTING;
    /** The discovery controller (also a failed one until it is detached). */
    private HostController ctrlr;
    private TransportId inUse;
    /** Discovery services to connect to, in turn: the start's address, then those of the last page read. */
    private final Deque<TransportId> discoveryEntries = new ArrayDeque<>();
    private final List<NvmEntry> nvmEntries = new ArrayList<>();
    private int nextIndex;
    private boolean inRound;
    private boolean roundAgain;
    /** Attaches of the round under way, plus one while the round starts them. */
    private int attaching;
    private DiscoveryLogPage page;
    private Started started;
    private Poller reconnectTimer;
    private Poller attachTimer;
    private final List<Runnable> stopWaiters = new ArrayList<>(1);

    DiscoveryService(NvmeDiscovery registry, NvmeBdevModule module, String name, TransportId trid, String hostnqn,
            boolean waitForAttach, long attachTimeoutMs, ReconnectPolicy policy) {
        this.registry = registry;
        this.module = module;
        this.thread = module.thread();
        this.name = name;
        this.trid = trid;
        this.hostnqn = hostnqn;
        this.waitForAttach = waitForAttach;
        this.attachTimeoutMs = attachTimeoutMs;
        this.policy = policy;
        NvmeOptions o = module.options();
        this.hostOptions = new ControllerOptions(hostnqn, module.defaultHostId(), o.keepAliveTimeoutMs(), false, false,
                1, 32, o.tcpConnectTimeoutMs() > 0 ? o.tcpConnectTimeoutMs() : 10_000, 10_000);
    }

    String name() {
        return name;
    }

    boolean stopping() {
        return state == State.STOPPING || state == State.STOPPED;
    }

    /** Whether the service connects to {@code t}, now or in turn (a second service for it is refused). */
    boolean connectsTo(TransportId t) {
        return inUse != null && NvmeBdevModule.sameTrid(inUse, t)
                || discoveryEntries.stream().anyMatch(d -> NvmeBdevModule.sameTrid(d, t));
    }

    boolean attached(NvmeCtrlr path) {
        return nvmEntries.stream().anyMatch(n -> n.path == path);
    }

    /** The name this service attached subsystem {@code subnqn} under, or null. */
    String nameOf(String subnqn) {
        return nvmEntries.stream().filter(n -> n.entry.subnqn().equals(subnqn)).map(n -> n.name).findFirst()
                .orElse(null);
    }

    // ---- start and connection ----

    /** Connects; {@code started} (null: nobody waits) hears the end of the first round or why there is none. */
    void start(Started whenStarted) {
        started = whenStarted;
        if (whenStarted != null && attachTimeoutMs > 0) {
            attachTimer = thread.registerPoller("nvme_discovery_attach_timeout", this::attachTimedOut,
                    attachTimeoutMs * 1000);
        }
        discoveryEntries.add(trid);
        connect();
    }

    private int attachTimedOut() {
        if (started != null) {
            LOG.error("nvme: discovery {} ({}:{}): not attached within attach_timeout_ms {}; stopping", name,
                    trid.traddr(), trid.trsvcid(), attachTimeoutMs);
            answerStart(-Errno.ETIMEDOUT, "Connection timed out");
            stop(() -> { });
        }
        return 1;
    }

    private void answerStart(int errno, String message) {
        if (attachTimer != null) {
            attachTimer.unregister();
            attachTimer = null;
        }
        Started s = started;
        started = null;
        if (s != null) {
            s.started(errno, message);
        }
    }

    private void connect() {
        inUse = discoveryEntries.pollFirst();
        HostController c = new HostController(module.adminPollGroup(), module.transport(inUse.trtype()), inUse,
                hostOptions, this);
        ctrlr = c;
        state = State.CONNECTING;
        c.start(err -> {
            if (c != ctrlr || state != State.CONNECTING) {
                return; // stopping: the stop detaches it
            }
            if (err != null) {
                connectionLost(err);
                return;
            }
            LOG.info("nvme: discovery {}: connected to {}:{}", name, inUse.traddr(), inUse.trsvcid());
            state = State.CONNECTED;
            readLog();
        });
    }

    /** The connection is gone or useless: the next discovery entry is tried in a second. */
    private void connectionLost(String reason) {
        LOG.warn("nvme: discovery {}: {}:{}: {}; connecting again in 1 s", name, inUse.traddr(), inUse.trsvcid(),
                reason);
        discoveryEntries.addLast(inUse);
        state = State.RECONNECT_DELAYED;
        reconnectTimer = thread.registerPoller("nvme_discovery_reconnect", () -> {
            cancelReconnect();
            ctrlr.detach(() -> {
                if (state == State.RECONNECT_DELAYED) {
                    connect();
                }
            });
            return 1;
        }, RECONNECT_DELAY_US);
    }

    private void cancelReconnect() {
        if (reconnectTimer != null) {
            reconnectTimer.unregister();
            reconnectTimer = null;
        }
    }

    @Override
    public void lost(HostController c, String reason) {
        if (c == ctrlr && state == State.CONNECTED) {
            connectionLost(reason);
        }
    }

    @Override
    public void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed,
            List<Integer> resized) {
        // a discovery controller has no namespaces
    }

    @Override
    public void discoveryLogChanged(HostController c) {
        if (c == ctrlr) {
            LOG.info("nvme: discovery {}: the discovery log changed", name);
            readLog();
        }
    }

    // ---- rounds: read the log, attach what is new, delete what went ----

    private void readLog() {
        if (state != State.CONNECTED) {
            return; // the next connection reads it
        }
        if (inRound) {
            roundAgain = true;
            return;
        }
        inRound = true;
        HostController c = ctrlr;
        DiscoveryLogReader.read(c, (p, err) -> {
            if (c != ctrlr || state != State.CONNECTED) {
                endRound(); // lost or stopping meanwhile
            } else if (err != null) {
                endRound();
                connectionLost("cannot read the discovery log: " + err);
            } else {
                apply(p);
            }
        });
    }

    private void apply(DiscoveryLogPage p) {
        page = p;
        discoveryEntries.clear();
        for (DiscoveryLogPage.Entry e : p.entries()) {
            if (e.isDiscovery()) {
                try {
                    discoveryEntries.add(e.transportId());
                } catch (IllegalArgumentException x) {
                    LOG.info("nvme: discovery {}: discovery entry {}:{} skipped: {}", name, e.traddr(), e.trsvcid(),
                            x.getMessage());
                }
            }
        }
        attaching = 1; // held while the loop starts attaches, so none that ends at once closes the round early
        for (DiscoveryLogPage.Entry e : p.entries()) {
            if (e.isNvm() && nvmEntries.stream().noneMatch(n -> n.entry.equals(e))) {
                attachEntry(e);
            }
        }
        attachDone();
    }

    private void attachEntry(DiscoveryLogPage.Entry e) {
        TransportId t;
        try {
            t = e.transportId();
        } catch (IllegalArgumentException x) {
            LOG.warn("nvme: discovery {}: NVM {} at {}:{} skipped: {}", name, e.subnqn(), e.traddr(), e.trsvcid(),
                    x.getMessage());
            return;
        }
        for (NvmeBdevCtrlr g : module.controllers()) {
            for (NvmeCtrlr c : g.paths()) {
                if (c.trids().stream().anyMatch(x -> NvmeBdevModule.sameTrid(x, t))
                        && c.config().hostOptions().hostNqn().equals(hostnqn)) {
                    LOG.error("nvme: discovery {}: NVM {} at {}:{} not attached: {} has that path (File exists)", name,
                            t.subnqn(), t.traddr(), t.trsvcid(), g.name());
                    return;
                }
            }
        }
        String known = registry.nameOf(t.subnqn());
        NvmEntry n = new NvmEntry(e, known != null ? known : name + nextIndex++, t);
        LOG.info("nvme: discovery {}: NVM {} at {}:{}: {} {}", name, t.subnqn(), t.traddr(), t.trsvcid(),
                known != null ? "new path for" : "new subsystem", n.name);
        nvmEntries.add(n);
        attaching++;
        try {
            module.attach(attachParams(n), (c, bdevs, err) -> attached(n, c, err));
        } catch (RpcException x) {
            attached(n, null, x.getMessage());
        }
    }

    private AttachParams attachParams(NvmEntry n) {
        ObjectNode p = Json.object();
        p.put("name", n.name);
        p.setAll(ControllerConfig.tridJson(n.trid));
        p.put("hostnqn", hostnqn);
        p.put("multipath", "multipath");
        p.put("ctrlr_loss_timeout_sec", policy.ctrlrLossTimeoutSec());
        p.put("reconnect_delay_sec", policy.reconnectDelaySec());
        p.put("fast_io_fail_timeout_sec", policy.fastIoFailTimeoutSec());
        return Json.MAPPER.convertValue(p, AttachParams.class);
    }

    private void attached(NvmEntry n, NvmeCtrlr c, String err) {
        if (err != null) {
            LOG.warn("nvme: discovery {}: attach of {} ({} at {}:{}) failed: {}", name, n.name, n.trid.subnqn(),
                    n.trid.traddr(), n.trid.trsvcid(), err);
            nvmEntries.remove(n); // the next read tries it again
        } else {
            n.path = c;
            c.whenDeleted(() -> pathDeleted(n));
        }
        attachDone();
    }

    private void attachDone() {
        if (--attaching > 0) {
            return;
        }
        if (state == State.STOPPING) {
            finishStop();
            return;
        }
        for (NvmEntry n : List.copyOf(nvmEntries)) {
            if (!page.entries().contains(n.entry)) {
                LOG.info("nvme: discovery {}: NVM {} at {}:{} is no longer listed: deleting that path of {}", name,
                        n.trid.subnqn(), n.trid.traddr(), n.trid.trsvcid(), n.name);
                nvmEntries.remove(n);
                deletePath(n, () -> { });
            }
        }
        page = null;
        answerStart(0, null);
        endRound();
    }

    private void endRound() {
        inRound = false;
        if (roundAgain) {
            roundAgain = false;
            readLog();
        }
    }

    /** A path the service attached was deleted; unless the service deleted it, the log is read again. */
    private void pathDeleted(NvmEntry n) {
        if (nvmEntries.remove(n)) {
            LOG.info("nvme: discovery {}: path {}:{} of {} was deleted; reading the discovery log again", name,
                    n.trid.traddr(), n.trid.trsvcid(), n.name);
            readLog();
        }
    }

    private static void deletePath(NvmEntry n, Runnable done) {
        if (n.path == null) {
            done.run();
        } else {
            n.path.group().deletePath(n.path, done);
        }
    }

    // ---- stop ----

    /**
     * Stops the service once the attaches under way have ended: deletes every path it attached, detaches the
     * discovery controller, leaves the registry; then {@code done}. A second stop waits for the first; a stop of a
     * stopped service completes at once. A start still waiting is answered -ECANCELED.
     */
    void stop(Runnable done) {
        if (state == State.STOPPED) {
            done.run();
            return;
        }
        stopWaiters.add(done);
        if (state == State.STOPPING) {
            return;
        }
        LOG.info("nvme: discovery {}: stopping", name);
        state = State.STOPPING;
        cancelReconnect();
        answerStart(-ECANCELED, "Operation canceled");
        if (attaching == 0) {
            finishStop();
        }
    }

    private void finishStop() {
        List<NvmEntry> all = List.copyOf(nvmEntries);
        nvmEntries.clear();
        int[] left = {all.size() + 1};
        Runnable step = () -> {
            if (--left[0] == 0) {
                ctrlr.detach(this::stopped);
            }
        };
        all.forEach(n -> deletePath(n, step));
        step.run();
    }

    private void stopped() {
        state = State.STOPPED;
        registry.stopped(this);
        LOG.info("nvme: discovery {}: stopped", name);
        List<Runnable> waiters = List.copyOf(stopWaiters);
        stopWaiters.clear();
        waiters.forEach(Runnable::run);
    }

    // ---- reports ----

    /** The service as {@code bdev_nvme_get_discovery_info} shows it. */
    ObjectNode info() {
        ObjectNode o = Json.object();
        o.put("name", name);
        o.set("trid", ControllerConfig.tridJson(trid));
        ArrayNode referrals = o.putArray("referrals");
        discoveryEntries.forEach(d -> referrals.addObject().set("trid", ControllerConfig.tridJson(d)));
        return o;
    }

    /** The {@code bdev_nvme_start_discovery} call that starts it again, as SPDK writes it (no subnqn). */
    ConfigEntry config() {
        ObjectNode p = Json.object();
        p.put("name", name);
        p.put("hostnqn", hostnqn);
        p.setAll(ControllerConfig.tridJson(trid));
        p.remove("subnqn");
        p.put("wait_for_attach", waitForAttach);
        p.put("ctrlr_loss_timeout_sec", policy.ctrlrLossTimeoutSec());
        p.put("reconnect_delay_sec", policy.reconnectDelaySec());
        p.put("fast_io_fail_timeout_sec", policy.fastIoFailTimeoutSec());
        return new ConfigEntry("bdev_nvme_start_discovery", p);
    }
}
