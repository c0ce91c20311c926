package io.keel.nvme.host;

import io.keel.core.mem.NativeArena;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.time.Clock;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.FeatureId;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.LogPageId;
import io.keel.nvme.spec.NamespaceIdList;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe-oF controller as the host sees it, run as a state machine on its owner thread (the thread of the
 * admin queue's poll group): every step is an admin command whose completion takes the next step, every step is
 * bounded, and nothing waits. It talks to its queues through {@link HostQpair} alone, so every transport shares
 * it.
 *
 * <p>Bring-up ({@link #start}, and again on {@link #reset}): admin queue (transport link, Fabrics Connect with a
 * dynamic controller ID and the KATO), VS, CAP, CC.EN=1, CSTS.RDY (polled every millisecond, bounded by CAP.TO),
 * Identify Controller, Set Features Number of Queues, Asynchronous Event Configuration, the active namespace
 * list and Identify Namespace for each, then Asynchronous Event Requests and keep-alives at KATO/2. A discovery
 * controller stops after Identify, enabling Discovery Log Page Change notices when it reports them (OAES bit 31)
 * and then submitting its AERs. An AEN for changed namespaces re-reads the list and tells the listener what
 * came, went or changed size; a discovery log change is told to the listener, which reads the page
 * ({@link DiscoveryLogReader}; {@link #getLogPage} serves any log page to the controller's user).
 *
 * <p>States (rule R5): NEW → CONNECTING → READY; READY → FAILED when the admin queue is lost or a keep-alive
 * goes unanswered for KATO (told to the listener once); {@link #reset} → RESETTING → READY or FAILED;
 * {@link #detach} from any state → DETACHING (CC.SHN and CSTS.SHST, bounded, when the controller is
 * reachable) → DETACHED. A detach during bring-up ends the bring-up with an error; a second detach waits for the
 * first; a detach of a detached controller completes at once. I/O queues ({@link #newIoQpair}) belong to the
 * threads that use them: their owners disconnect them for a reset or detach.
 *
 * <p>{@link #state}, {@link #data} and {@link #namespaces} may be read from any thread; everything else runs on
 * the owner thread.
 */
public final class HostController implements HostQpair.Listener {
    public enum State { NEW, CONNECTING, READY, RESETTING, FAILED, DETACHING, DETACHED }

    /** Hears what happens to a controller, on its owner thread. */
    public interface Listener {
        /** The controller was READY and is lost (admin queue gone, keep-alive unanswered); it is FAILED now. */
        void lost(HostController c, String reason);

        /** Namespaces came, went or changed size (an AEN, or found by a reset); {@link #namespaces} has them. */
        void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed, List<Integer> resized);

        /**
         * A discovery controller's Discovery Log Page changed. The notice stays masked until the page is read
         * (Get Log Page with RAE clear, as {@link #getLogPage} and {@link DiscoveryLogReader} do), so a listener
         * that wants the next notice reads the page.
         */
        default void discoveryLogChanged(HostController c) {
        }
    }

    /** The end of a bring-up: {@code error} is null on success. */
    @FunctionalInterface
    public interface Done {
        void done(String error);
    }

    /** The well-known NQN of discovery controllers. */
    public static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";
    private static final Logger LOG = LoggerFactory.getLogger(HostController.class);
    private static final int ADMIN_SEND_BUFFER = 64 << 10;
    private static final int MAX_AERS = 4;
    private static final int AEN_TYPE_NOTICE = 2;
    private static final int AEN_NOTICE_NS_ATTRIBUTE = 0x00;
    private static final int AEN_NOTICE_ANA_CHANGE = 0x03;
    private static final int AEN_NOTICE_DISCOVERY_LOG = 0xF0;
    private static final int CSTS_SHST_COMPLETE = 2;
    /** The most a detach waits for CSTS.SHST to say the shutdown is complete. */
    private static final long SHUTDOWN_BOUND_MS = 5_000;

    private final HostPollGroup group;
    private final KeelThread thread;
    private final Clock clock;
    private final HostTransport transport;
    /** Where the controller is reached now (a failover moves it to another address of the subsystem). */
    private volatile TransportId trid;
    private final ControllerOptions options;
    private final Listener listener;
    private final NativeArena arena = new NativeArena();
    /** Identify data of bring-up and rescans (one at a time). */
    private final MemorySegment scratch = arena.allocate(4096, 4096);
    /** Log pages read to clear an asynchronous event, which may overlap a rescan. */
    private final MemorySegment logPage = arena.allocate(4096, 4096);

    private volatile State state = State.NEW;
    private volatile ControllerData data;
    private volatile Map<Integer, NamespaceData> namespaces = Map.of();
    /** ANA group → state, from the ANA log page (empty when the controller does not report ANA). */
    private volatile Map<Integer, Integer> anaStates = Map.of();
    private volatile AtomicIntegerArray qidsInUse = new AtomicIntegerArray(1);
    /** The queue ID handed out last (0 before the first). */
    private final AtomicInteger lastQid = new AtomicInteger();

    private HostQpair admin;
    private long adminTimeoutNanos;
    private HostQpair.TimeoutHandler adminTimeoutHandler;
    /** Advanced whenever the controller leaves a phase: callbacks of an older phase do nothing. */
    private int phase;
    private long cap;
    private int vs;
    private final List<Done> bringUpWaiters = new ArrayList<>(1);
    private final List<Runnable> detachWaiters = new ArrayList<>(1);
    /** The step commands on the admin queue now, by command ID, each with its deadline (several may overlap). */
    private final Map<Integer, Long> stepDeadlines = new java.util.HashMap<>();
    private final Map<Integer, String> stepNames = new java.util.HashMap<>();
    private Poller stepWatch;
    private Poller keepAliveTimer;
    private boolean keepAliveOutstanding;
    private long keepAliveSentNanos;
    private boolean rescanning;
    private boolean rescanAgain;
    /** This bring-up enabled Discovery Log Page Change notices (a discovery controller that reports them). */
    private boolean discoveryEvents;
    /** Log page reads for the user under way in this phase; each is answered exactly once. */
    private final List<UserRead> userReads = new ArrayList<>(1);

    public HostController(HostPollGroup group, HostTransport transport, TransportId trid, ControllerOptions options,
            Listener listener) {
        this.group = group;
        this.thread = group.thread();
        this.clock = thread.runtime().clock();
        this.transport = transport;
        this.trid = trid;
        this.options = options;
        this.listener = listener;
    }

    public State state() {
        return state;
    }

    /** What the last bring-up learnt; null before the first Identify. */
    public ControllerData data() {
        return data;
    }

    /** The active namespaces by NSID (empty for a discovery controller). */
    public Map<Integer, NamespaceData> namespaces() {
        return namespaces;
    }

    public TransportId trid() {
        return trid;
    }

    /**
     * The ANA state of namespace {@code nsid} through this controller ({@link AnaState}); OPTIMIZED when the
     * controller does not report ANA. Any thread.
     */
    public int anaState(int nsid) {
        ControllerData d = data;
        if (d == null || !d.anaReporting()) {
            return AnaState.OPTIMIZED; // the common case, asked on every I/O: no map lookup
        }
        NamespaceData ns = namespaces.get(nsid);
        return ns == null ? AnaState.OPTIMIZED : anaStates.getOrDefault(ns.anagrpid(), AnaState.INACCESSIBLE);
    }

    public ControllerOptions options() {
        return options;
    }

    public HostTransport transport() {
        return transport;
    }

    public KeelThread thread() {
        return thread;
    }

    public boolean isDiscovery() {
        ControllerData d = data;
        return trid.subnqn().equals(DISCOVERY_NQN) || d != null && d.cntrltype() == IdentifyController.CNTRLTYPE_DISCOVERY;
    }

    // ---- life cycle ----

    /** Brings the controller up; {@code done} hears the end (error text, or null). Once, from NEW. */
    public void start(Done done) {
        if (state != State.NEW) {
            throw new IllegalStateException("controller " + trid + " already started (" + state + ")");
        }
        state = State.CONNECTING;
        bringUpWaiters.add(done);
        admin = newAdminQueue();
        admin.connect(-1);
    }

    private HostQpair newAdminQueue() {
        HostQpair q = transport.newQpair(group, trid, new QpairConfig(0, options.adminQueueSize(),
                options.adminQueueSize(), trid.subnqn(), options.hostNqn(), options.hostId(), ConnectData.CNTLID_DYNAMIC,
                options.keepAliveMs(), options.headerDigest(), options.dataDigest(), options.connectTimeoutMs()),
                ADMIN_SEND_BUFFER, this);
        q.commandTimeout(adminTimeoutNanos, adminTimeoutHandler);
        return q;
    }

    /**
     * Watches admin commands (not the Asynchronous Event Requests) for taking longer than {@code nanos}; owner
     * thread, before {@link #start} or any time after (0: stop).
     */
    public void adminCommandTimeout(long nanos, HostQpair.TimeoutHandler handler) {
        adminTimeoutNanos = nanos;
        adminTimeoutHandler = handler;
        if (admin != null) {
            admin.commandTimeout(nanos, handler);
        }
    }

    /**
     * Asks the controller to abort command {@code cid} of queue {@code sqid} (the Abort admin command); {@code done}
     * hears null when the controller answered that it aborted it, or why not.
     */
    public void abort(int sqid, int cid, Done done) {
        if (state != State.READY) {
            done.done("controller " + trid.subnqn() + " is " + state);
            return;
        }
        HostRequest r = admin.allocate();
        if (r == null) {
            done.done("no admin request free");
            return;
        }
        r.sqe().opcode(Opcode.ABORT).abort().sqid(sqid).cid(cid);
        int rc = admin.submit(r, (a, st, res) -> done.done(st != 0 ? "Abort failed: " + HostStatus.describe(st)
                : (res & 1) != 0 ? "the controller did not abort the command" : null), null);
        if (rc != 0) {
            done.done("admin queue is " + admin.state());
        }
    }

    /**
     * As {@link #reset}, at another address of the same subsystem (a failover): the admin queue is made anew there,
     * and I/O queues made from now on go there too. A failover while a reset or bring-up runs joins it.
     */
    public void failover(TransportId next, Done done) {
        if (!next.subnqn().equals(trid.subnqn())) {
            throw new IllegalArgumentException("failover to another subsystem: " + next.subnqn());
        }
        restart("failover", next, done);
    }

    /**
     * Reconnects the admin queue and brings the controller up again (a new controller ID); the caller's I/O
     * queues reconnect afterwards with {@code data().cntlid()}. A reset while one runs joins it.
     */
    public void reset(Done done) {
        restart("controller reset", null, done);
    }

    /** Disconnects the admin queue and brings the controller up again, at {@code next} when not null. */
    private void restart(String why, TransportId next, Done done) {
        switch (state) {
            case NEW, DETACHING, DETACHED -> done.done("controller " + trid.subnqn() + " is " + state);
            case CONNECTING, RESETTING -> bringUpWaiters.add(done);
            default -> {
                bringUpWaiters.add(done);
                leavePhase();
                state = State.RESETTING;
                int p = phase;
                if (next != null) {
                    LOG.info("nvme host: {} failing over from {}:{} to {}:{}", trid.subnqn(), trid.traddr(),
                            trid.trsvcid(), next.traddr(), next.trsvcid());
                }
                admin.disconnect(why, () -> {
                    if (p != phase) {
                        return;
                    }
                    if (next != null) { // the admin queue is made anew at the other address
                        admin.close();
                        trid = next;
                        admin = newAdminQueue();
                    }
                    admin.connect(ConnectData.CNTLID_DYNAMIC);
                });
            }
        }
    }

    /**
     * Shuts the controller down (CC.SHN, bounded, when it is reachable), disconnects and frees the admin queue,
     * and runs {@code done}: at once when already detached, after the running detach when one runs.
     */
    public void detach(Runnable done) {
        if (state == State.DETACHED) {
            done.run();
            return;
        }
        detachWaiters.add(done);
        if (state == State.DETACHING) {
            return;
        }
        boolean graceful = state == State.READY && admin.state() == HostQpair.State.CONNECTED;
        List<Done> interrupted = List.copyOf(bringUpWaiters);
        bringUpWaiters.clear();
        leavePhase();
        state = State.DETACHING;
        interrupted.forEach(d -> d.done("controller " + trid.subnqn() + " detached while connecting"));
        if (!graceful) {
            finishDetach();
            return;
        }
        long bound = Math.min(SHUTDOWN_BOUND_MS, options.adminTimeoutMs());
        long deadline = clock.nanoTime() + bound * 1_000_000;
        int cc = Properties.Cc.of(true, 0, 0, 0, Properties.Cc.SHN_NORMAL, 6, 4);
        propertySet(Properties.CC, cc, () -> awaitShutdown(deadline, bound));
    }

    private void awaitShutdown(long deadline, long boundMs) {
        propertyGet(Properties.CSTS, 4, csts -> {
            if ((csts >>> 2 & 3) == CSTS_SHST_COMPLETE) {
                finishDetach();
            } else if (clock.nanoTime() - deadline > 0) {
                LOG.warn("nvme host: {} did not report shutdown complete within {} ms; detaching anyway", trid.subnqn(),
                        boundMs);
                finishDetach();
            } else {
                later(1, () -> awaitShutdown(deadline, boundMs));
            }
        });
    }

    private void finishDetach() {
        leavePhase();
        if (admin == null) {
            detached();
            return;
        }
        admin.disconnect("detached", () -> {
            admin.close();
            detached();
        });
    }

    private void detached() {
        state = State.DETACHED;
        arena.close();
        List<Runnable> waiters = List.copyOf(detachWaiters);
        detachWaiters.clear();
        waiters.forEach(Runnable::run);
    }

    /** Ends the current phase: its callbacks, timers and keep-alives stop counting. */
    private void leavePhase() {
        phase++;
        stepDeadlines.clear();
        stepNames.clear();
        if (stepWatch != null) {
            stepWatch.unregister();
            stepWatch = null;
        }
        if (keepAliveTimer != null) {
            keepAliveTimer.unregister();
            keepAliveTimer = null;
        }
        keepAliveOutstanding = false;
        rescanning = false;
        rescanAgain = false;
        endUserReads();
    }

    // ---- the admin queue's events ----

    @Override
    public void connected(HostQpair q) {
        if (q == admin && (state == State.CONNECTING || state == State.RESETTING)) {
            readVersion();
        }
    }

    @Override
    public void lost(HostQpair q, String reason) {
        if (q != admin) {
            return;
        }
        switch (state) {
            case CONNECTING, RESETTING -> bringUpFailed("admin queue: " + reason);
            case READY -> fail("admin queue lost: " + reason);
            default -> { }
        }
    }

    // ---- bring-up steps ----

    private void readVersion() {
        propertyGet(Properties.VS, 4, v -> {
            vs = (int) v;
            propertyGet(Properties.CAP, 8, c -> {
                cap = c;
                enable();
            });
        });
    }

    private void enable() {
        int cc = Properties.Cc.of(true, 0, 0, 0, Properties.Cc.SHN_NONE, 6, 4);
        long boundMs = Math.max(Properties.Cap.to(cap), 1) * 500L;
        long deadline = clock.nanoTime() + boundMs * 1_000_000;
        propertySet(Properties.CC, cc, () -> awaitReady(deadline, boundMs));
    }

    private void awaitReady(long deadline, long boundMs) {
        propertyGet(Properties.CSTS, 4, csts -> {
            if ((csts & 2) != 0) {
                bringUpFailed("controller fatal status (CSTS.CFS) after CC.EN=1");
            } else if ((csts & 1) != 0) {
                identifyController();
            } else if (clock.nanoTime() - deadline > 0) {
                bringUpFailed("CSTS.RDY not set within CAP.TO (" + boundMs + " ms) after CC.EN=1");
            } else {
                later(1, () -> awaitReady(deadline, boundMs));
            }
        });
    }

    private void identifyController() {
        admin("Identify Controller", s -> s.opcode(Opcode.IDENTIFY).identify().cns(1), 4096, r -> {
            data = ControllerData.of(admin.cntlid(), cap, vs, new IdentifyController().wrap(scratch));
            if (isDiscovery()) {
                configureDiscoveryEvents();
            } else {
                setNumberOfQueues();
            }
        });
    }

    private void setNumberOfQueues() {
        int n = options.ioQueues();
        admin("Set Features (Number of Queues)", s -> {
            s.opcode(Opcode.SET_FEATURES).features().fid(FeatureId.NUMBER_OF_QUEUES);
            s.cdw11((n - 1) | (n - 1) << 16);
        }, 0, dw0 -> {
            int granted = (int) Math.min((dw0 & 0xFFFF) + 1, (dw0 >>> 16 & 0xFFFF) + 1);
            granted = Math.min(granted, n);
            data = data.withQueuesGranted(granted);
            if (qidsInUse.length() != granted + 1) {
                qidsInUse = new AtomicIntegerArray(granted + 1);
            }
            configureEvents();
        });
    }

    private void configureEvents() {
        int events = data.oaes() & (IdentifyController.OAES_NAMESPACE_ATTRIBUTE | IdentifyController.OAES_ANA_CHANGE);
        if (events == 0) {
            scanNamespaces(true);
            return;
        }
        admin("Set Features (Asynchronous Event Configuration)", s -> {
            s.opcode(Opcode.SET_FEATURES).features().fid(FeatureId.ASYNC_EVENT_CONFIGURATION);
            s.cdw11(events);
        }, 0, r -> scanNamespaces(true));
    }

    /** A discovery controller that reports Discovery Log Page Change notices (OAES bit 31) gets them enabled. */
    private void configureDiscoveryEvents() {
        discoveryEvents = (data.oaes() & IdentifyController.OAES_DISCOVERY_LOG_CHANGE) != 0;
        if (!discoveryEvents) {
            ready();
            return;
        }
        admin("Set Features (Asynchronous Event Configuration)", s -> {
            s.opcode(Opcode.SET_FEATURES).features().fid(FeatureId.ASYNC_EVENT_CONFIGURATION);
            s.cdw11(IdentifyController.OAES_DISCOVERY_LOG_CHANGE);
        }, 0, r -> ready());
    }

    /** Reads the active namespace list and identifies each namespace; {@code bringUp}: as a step of bring-up. */
    private void scanNamespaces(boolean bringUp) {
        if (!bringUp) {
            if (rescanning) {
                rescanAgain = true;
                return;
            }
            rescanning = true;
        }
        admin("Identify Active Namespace List", s -> s.opcode(Opcode.IDENTIFY).nsid(0).identify().cns(2), 4096, r -> {
            NamespaceIdList list = new NamespaceIdList().wrap(scratch);
            List<Integer> nsids = new ArrayList<>();
            for (int i = 0; i < list.count(); i++) {
                nsids.add(list.nsid(i));
            }
            identifyNamespaces(nsids, 0, new TreeMap<>(), bringUp);
        });
    }

    private void identifyNamespaces(List<Integer> nsids, int i, TreeMap<Integer, NamespaceData> found,
            boolean bringUp) {
        if (i == nsids.size()) {
            namespacesScanned(Collections.unmodifiableMap(found), bringUp);
            return;
        }
        int nsid = nsids.get(i);
        admin("Identify Namespace " + nsid, s -> s.opcode(Opcode.IDENTIFY).nsid(nsid).identify().cns(0), 4096, r -> {
            IdentifyNamespace ns = new IdentifyNamespace().wrap(scratch);
            if (ns.nsze() > 0) {
                found.put(nsid, NamespaceData.of(nsid, ns));
            }
            identifyNamespaces(nsids, i + 1, found, bringUp);
        });
    }

    private void namespacesScanned(Map<Integer, NamespaceData> found, boolean bringUp) {
        Map<Integer, NamespaceData> before = namespaces;
        namespaces = found;
        boolean notify = bringUp ? state == State.RESETTING : true;
        if (bringUp) {
            readAnaLog(this::ready);
        } else {
            rescanning = false;
        }
        List<Integer> added = new ArrayList<>();
        List<Integer> removed = new ArrayList<>();
        List<Integer> resized = new ArrayList<>();
        found.forEach((nsid, ns) -> {
            NamespaceData old = before.get(nsid);
            if (old == null) {
                added.add(nsid);
            } else if (old.blocks() != ns.blocks() || old.blockSize() != ns.blockSize()) {
                resized.add(nsid);
            }
        });
        before.keySet().stream().filter(n -> !found.containsKey(n)).forEach(removed::add);
        if (notify && (!added.isEmpty() || !removed.isEmpty() || !resized.isEmpty())) {
            LOG.info("nvme host: {} namespaces changed: added {} removed {} resized {}", trid.subnqn(), added, removed,
                    resized);
            listener.namespacesChanged(this, added, removed, resized);
        }
        if (!bringUp && rescanAgain && state == State.READY) {
            rescanAgain = false;
            scanNamespaces(false);
        }
    }

    private void ready() {
        boolean reset = state == State.RESETTING;
        state = State.READY;
        LOG.info("nvme host: {} {} {} as cntlid {} (VS {}, MQES {}, IOCCSZ {}, MDTS {}, {} I/O queues, digests {}/{})",
                reset ? "reconnected to" : "connected to", trid.subnqn(), trid.traddr() + ":" + trid.trsvcid(),
                data.cntlid(), data.version(), Properties.Cap.mqes(cap), data.ioccsz(), data.mdts(),
                data.ioQueuesGranted(), options.headerDigest(), options.dataDigest());
        if (!isDiscovery() || discoveryEvents) {
            int aers = Math.min(data.aerl() + 1, MAX_AERS);
            for (int i = 0; i < aers; i++) {
                submitAer();
            }
        }
        if (options.keepAliveMs() > 0) {
            keepAliveSentNanos = clock.nanoTime();
            keepAliveTimer = thread.registerPoller("nvme_keep_alive", this::keepAliveTick,
                    Math.max(options.keepAliveMs() / 2, 1) * 1000L);
        }
        List<Done> waiters = List.copyOf(bringUpWaiters);
        bringUpWaiters.clear();
        waiters.forEach(d -> d.done(null));
    }

    private void bringUpFailed(String reason) {
        if (state != State.CONNECTING && state != State.RESETTING) {
            return;
        }
        LOG.warn("nvme host: cannot bring up {} at {}:{}: {}", trid.subnqn(), trid.traddr(), trid.trsvcid(), reason);
        leavePhase();
        state = State.FAILED;
        admin.disconnect(reason, () -> { });
        List<Done> waiters = List.copyOf(bringUpWaiters);
        bringUpWaiters.clear();
        waiters.forEach(d -> d.done(reason));
    }

    /** READY → FAILED, once; the listener hears it. */
    private void fail(String reason) {
        if (state != State.READY) {
            return;
        }
        LOG.warn("nvme host: controller {} at {}:{} failed: {}", trid.subnqn(), trid.traddr(), trid.trsvcid(), reason);
        leavePhase();
        state = State.FAILED;
        admin.disconnect(reason, () -> { });
        listener.lost(this, reason);
    }

    // ---- keep-alive and asynchronous events ----

    private int keepAliveTick() {
        if (state != State.READY) {
            return 0;
        }
        long now = clock.nanoTime();
        if (keepAliveOutstanding) {
            if (now - keepAliveSentNanos > options.keepAliveMs() * 1_000_000L) {
                fail("keep-alive not answered within KATO (" + options.keepAliveMs() + " ms)");
            }
            return 0;
        }
        HostRequest r = admin.allocate();
        if (r == null) {
            return 0;
        }
        r.sqe().opcode(Opcode.KEEP_ALIVE);
        int p = phase;
        keepAliveOutstanding = true;
        keepAliveSentNanos = now;
        admin.submit(r, (a, st, res) -> {
            if (p != phase) {
                return;
            }
            keepAliveOutstanding = false;
            if (st != 0 && st != HostStatus.ABORTED_SQ_DELETION) {
                fail("Keep Alive failed: " + HostStatus.describe(st));
            }
        }, null);
        return 1;
    }

    private void submitAer() {
        HostRequest r = admin.allocate();
        if (r == null) {
            return;
        }
        r.sqe().opcode(Opcode.ASYNC_EVENT_REQUEST);
        r.noTimeout();
        int p = phase;
        admin.submit(r, (a, st, res) -> aerDone(p, st, (int) res), null);
    }

    private void aerDone(int p, int status, int dw0) {
        if (p != phase || state != State.READY) {
            return;
        }
        if (status == HostStatus.ABORTED_SQ_DELETION) {
            return; // the admin queue went away: the loss is handled where it is seen
        }
        if (status != 0) {
            LOG.warn("nvme host: {}: Asynchronous Event Request ended with {}", trid.subnqn(), HostStatus.describe(status));
            return;
        }
        int type = dw0 & 7;
        int info = dw0 >>> 8 & 0xFF;
        int lid = dw0 >>> 16 & 0xFF;
        LOG.info("nvme host: {}: asynchronous event type {} info 0x{} log page 0x{}", trid.subnqn(), type,
                Integer.toHexString(info), Integer.toHexString(lid));
        if (type == AEN_TYPE_NOTICE && info == AEN_NOTICE_DISCOVERY_LOG) {
            submitAer(); // first: the listener may detach the controller
            listener.discoveryLogChanged(this); // it reads the page, which re-arms the notice
            return;
        }
        if (type == AEN_TYPE_NOTICE && info == AEN_NOTICE_NS_ATTRIBUTE) {
            readLogPage(LogPageId.CHANGED_NAMESPACE_LIST, () -> scanNamespaces(false));
        } else if (type == AEN_TYPE_NOTICE && info == AEN_NOTICE_ANA_CHANGE) {
            readAnaLog(() -> { });
        } else if (lid != 0) {
            readLogPage(lid, () -> { });
        }
        submitAer();
    }

    /** Reads the ANA log page (groups only) when the controller reports ANA, publishes the states, then runs {@code then}. */
    private void readAnaLog(Runnable then) {
        ControllerData d = data;
        if (d == null || !d.anaReporting()) {
            then.run();
            return;
        }
        admin("Get Log Page (ANA)", s -> s.opcode(Opcode.GET_LOG_PAGE).nsid(0xFFFF_FFFF).getLogPage()
                .lid(LogPageId.ASYMMETRIC_NAMESPACE_ACCESS).lsp(1).lengthBytes(4096), logPage, 4096, r -> {
                    Map<Integer, Integer> states = AnaState.parse(logPage, 4096);
                    if (!states.equals(anaStates)) {
                        LOG.info("nvme host: {} ANA groups: {}", trid.subnqn(), states);
                    }
                    anaStates = Map.copyOf(states);
                    then.run();
                });
    }

    /** Reads (and so clears) the log page an asynchronous event points at. */
    private void readLogPage(int lid, Runnable then) {
        admin("Get Log Page 0x" + Integer.toHexString(lid), s -> s.opcode(Opcode.GET_LOG_PAGE).nsid(0xFFFF_FFFF)
                .getLogPage().lid(lid).lengthBytes(4096), logPage, 4096, r -> then.run());
    }

    // ---- log pages for the user ----

    /** One {@link #getLogPage} under way: what it reads and who hears the answer (compared by identity). */
    private static final class UserRead {
        final String what;
        final Done done;

        UserRead(String what, Done done) {
            this.what = what;
            this.done = done;
        }
    }

    /**
     * Reads {@code length} bytes (a multiple of 4) of log page {@code lid} with log specific field {@code lsp}, from
     * byte {@code offset} (a multiple of 4) of the page, into {@code into} (Get Log Page, NSID FFFFFFFFh, RAE clear:
     * reading a page re-arms its asynchronous event). {@code done} hears null or the error, exactly once and never
     * inside this call. The command is a step like those of bring-up: unanswered within the admin timeout, it fails
     * the controller (which is not answering); a reset, failure or detach ends every read under way with an error.
     * READY only; owner thread. IllegalArgumentException for a length or offset that is not a multiple of 4 or a
     * buffer too small.
     */
    public void getLogPage(int lid, int lsp, long offset, MemorySegment into, int length, Done done) {
        if (length < 4 || (length & 3) != 0 || (offset & 3) != 0 || offset < 0 || into.byteSize() < length) {
            throw new IllegalArgumentException("log page read of " + length + " bytes at " + offset + " into "
                    + into.byteSize() + " bytes");
        }
        String what = "Get Log Page 0x" + Integer.toHexString(lid) + " (" + length + " bytes at " + offset + ")";
        if (state != State.READY) {
            String s = state.name();
            thread.send(() -> done.done(what + ": controller " + trid.subnqn() + " is " + s));
            return;
        }
        HostRequest r = admin.allocate();
        if (r == null) {
            thread.send(() -> done.done(what + ": no admin request free"));
            return;
        }
        r.sqe().opcode(Opcode.GET_LOG_PAGE).nsid(0xFFFF_FFFF).getLogPage().lid(lid).lsp(lsp).lengthBytes(length)
                .lpo(offset);
        r.segment(into, 0, length);
        UserRead read = new UserRead(what, done);
        userReads.add(read);
        int cid = r.cid();
        int rc = admin.submit(r, (a, st, res) -> {
            if (userReads.remove(read)) { // else its phase ended, which answered it
                endStep(cid);
                done.done(st == 0 ? null : what + " failed: " + HostStatus.describe(st));
            }
        }, null);
        if (rc != 0) {
            userReads.remove(read);
            String reason = what + ": admin queue is " + admin.state();
            thread.send(() -> done.done(reason));
            return;
        }
        startStep(cid, what);
    }

    /**
     * The phase ended: every read under way is answered with an error, one message later (the phase ends inside
     * reset, detach or a failure, which the user's callback must not re-enter).
     */
    private void endUserReads() {
        if (userReads.isEmpty()) {
            return;
        }
        List<UserRead> ended = List.copyOf(userReads);
        userReads.clear();
        thread.send(() -> ended.forEach(read -> read.done.done(read.what + ": controller " + trid.subnqn()
                + " is " + state)));
    }

    // ---- I/O queues ----

    /**
     * A new I/O queue pair owned by {@code group}'s thread (call there), not yet connected (the caller connects it
     * and hears about it through {@code listener}), or null when the controller is not READY or every granted
     * queue is taken. {@code queueSize} is capped at CAP.MQES + 1. Give its queue ID back with
     * {@link #releaseQid} once it is closed.
     */
    public HostQpair newIoQpair(HostPollGroup ioGroup, int queueSize, int requests, int sendBufferBytes,
            HostQpair.Listener qpairListener) {
        ControllerData d = data;
        if (state != State.READY || d == null || isDiscovery()) {
            return null;
        }
        int qid = allocateQid();
        if (qid < 0) {
            return null;
        }
        int size = Math.min(queueSize, d.maxQueueEntries());
        QpairConfig config = new QpairConfig(qid, size, Math.max(requests, size - 1), trid.subnqn(),
                options.hostNqn(), options.hostId(), d.cntlid(), 0, options.headerDigest(), options.dataDigest(),
                options.connectTimeoutMs());
        HostQpair q = transport.newQpair(ioGroup, trid, config, sendBufferBytes, qpairListener);
        q.inCapsuleBytes(d.ioInCapsuleBytes());
        q.maxTransferBytes(d.maxTransferBytes());
        return q;
    }

    /**
     * The next free queue ID after the one handed out last (next fit, not lowest free): an ID just given back is
     * the last to be reused, because the target may still be tearing its old queue down (Linux's nvmet then
     * refuses the Connect with Command Sequence Error, SPDK's with Invalid Queue Identifier).
     */
    private int allocateQid() {
        AtomicIntegerArray used = qidsInUse;
        int ids = used.length() - 1;
        int start = lastQid.get();
        for (int i = 1; i <= ids; i++) {
            int qid = (start + i - 1) % ids + 1;
            if (used.compareAndSet(qid, 0, 1)) {
                lastQid.set(qid);
                return qid;
            }
        }
        return -1;
    }

    /** Gives back an I/O queue ID (any thread). */
    public void releaseQid(int qid) {
        AtomicIntegerArray used = qidsInUse;
        if (qid > 0 && qid < used.length()) {
            used.set(qid, 0);
        }
    }

    // ---- admin command plumbing ----

    private void propertyGet(int offset, int size, LongConsumer then) {
        admin("Property Get 0x" + Integer.toHexString(offset), s -> {
            s.fabrics().init(Opcode.Fabrics.PROPERTY_GET, 0);
            s.property().sizeBytes(size).ofst(offset);
        }, 0, v -> then.accept(size == 4 ? v & 0xFFFF_FFFFL : v));
    }

    private void propertySet(int offset, int value, Runnable then) {
        admin("Property Set 0x" + Integer.toHexString(offset), s -> {
            s.fabrics().init(Opcode.Fabrics.PROPERTY_SET, 0);
            s.property().sizeBytes(4).ofst(offset).value(value & 0xFFFF_FFFFL);
        }, 0, v -> then.run());
    }

    /**
     * One step's admin command, bounded by the admin timeout: {@code fill} writes the SQE; {@code dataIn} bytes
     * arrive in the scratch page; {@code then} gets CQE DW0:DW1 on success. A failure or timeout fails the phase.
     */
    private void admin(String what, Consumer<Sqe> fill, int dataIn, LongConsumer then) {
        admin(what, fill, scratch, dataIn, then);
    }

    private void admin(String what, Consumer<Sqe> fill, MemorySegment buffer, int dataIn, LongConsumer then) {
        int p = phase;
        HostRequest r = admin.allocate();
        if (r == null) {
            stepFailed(what + ": no admin request free", false);
            return;
        }
        fill.accept(r.sqe());
        if (dataIn > 0) {
            r.segment(buffer, 0, dataIn);
        }
        int cid = r.cid();
        int rc = admin.submit(r, (a, st, res) -> {
            if (p != phase) {
                return;
            }
            endStep(cid);
            if (st != 0) {
                stepFailed(what + " failed: " + HostStatus.describe(st), false);
            } else {
                then.accept(res);
            }
        }, null);
        if (rc != 0) {
            stepFailed(what + ": admin queue is " + admin.state(), false);
            return;
        }
        startStep(cid, what);
    }

    /** Watches step command {@code cid}: unanswered after the admin timeout, the phase fails. */
    private void startStep(int cid, String what) {
        stepDeadlines.put(cid, clock.nanoTime() + options.adminTimeoutMs() * 1_000_000);
        stepNames.put(cid, what);
        if (stepWatch == null) {
            long period = Math.max(1, Math.min(options.adminTimeoutMs() / 10, 100)) * 1000;
            stepWatch = thread.registerPoller("nvme_admin_timeout", this::watchSteps, period);
        }
    }

    private void endStep(int cid) {
        stepDeadlines.remove(cid);
        stepNames.remove(cid);
        if (stepDeadlines.isEmpty() && stepWatch != null) {
            stepWatch.unregister();
            stepWatch = null;
        }
    }

    private int watchSteps() {
        long now = clock.nanoTime();
        for (Map.Entry<Integer, Long> e : stepDeadlines.entrySet()) {
            if (now - e.getValue() > 0) {
                String what = stepNames.get(e.getKey());
                endStep(e.getKey());
                stepFailed(what + " timed out after " + options.adminTimeoutMs() + " ms", true);
                return 1; // the phase moved on: look again next time
            }
        }
        return 0;
    }

    /** A step's command failed; {@code timedOut}: it went unanswered, so the controller is not answering. */
    private void stepFailed(String reason, boolean timedOut) {
        switch (state) {
            case CONNECTING, RESETTING -> bringUpFailed(reason);
            case READY -> {
                LOG.warn("nvme host: {}: {}", trid.subnqn(), reason);
                rescanning = false;
                if (timedOut) {
                    fail(reason);
                }
            }
            case DETACHING -> {
                LOG.info("nvme host: {}: {} during shutdown; detaching anyway", trid.subnqn(), reason);
                finishDetach();
            }
            default -> { }
        }
    }

    /** Runs {@code r} on the owner thread after {@code ms}, unless the phase has moved on. */
    private void later(long ms, Runnable r) {
        int p = phase;
        Poller[] self = new Poller[1];
        self[0] = thread.registerPoller("nvme_ctrlr_wait", () -> {
            self[0].unregister();
            if (p == phase) {
                r.run();
            }
            return 1;
        }, ms * 1000);
    }

    @Override
    public String toString() {
        return "controller " + trid.subnqn() + " at " + trid.traddr() + ":" + trid.trsvcid() + " (" + state + ")";
    }
}
