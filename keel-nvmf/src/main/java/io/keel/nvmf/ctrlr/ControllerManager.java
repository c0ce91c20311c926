package io.keel.nvmf.ctrlr;

import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Nqn;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.Target;
import io.keel.nvmf.TransportOptions;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's controllers: Fabrics Connect (admin queue: creates a {@link Controller}; I/O queue: binds the
 * queue to its controller), the controller IDs of each subsystem, and fan-out of namespace and discovery
 * changes. Owned by one thread (rule R1) — the application thread, which also owns the {@link Target} it reads;
 * a transport forwards a Connect capsule to that thread (R2) and gets back the {@link Binding} for its queue.
 */
public final class ControllerManager {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerManager.class);

    /** Connect SQE field offsets, reported as IPO with Connect Invalid Parameters (NVMe-oF 1.1 figure 19/20). */
    static final int IPO_QID = 42;
    static final int IPO_SQSIZE = 44;
    static final int IPO_CNTLID = 16;
    static final int IPO_SUBNQN = 256;
    static final int IPO_HOSTNQN = 512;
    static final int MIN_CNTLID = 1;
    static final int MAX_CNTLID = 0xFFEF;

    /** A queue bound to its controller by a successful Connect. */
    public record Binding(Controller controller, int qid, QueueActivity activity) {
    }

    private final Target target;
    private final ListenAddress.Source listeners;
    /** subnqn → cntlid → controller. */
    private final Map<String, TreeMap<Integer, Controller>> controllers = new HashMap<>();
    /** The same controllers in one list: the keep-alive check walks it by index, allocating nothing. */
    private final List<Controller> live = new ArrayList<>();
    private final Map<String, Integer> nextCntlid = new HashMap<>();
    private long discoveryGeneration;
    private final ConnectData connectData = new ConnectData();

    public ControllerManager(Target target, ListenAddress.Source listeners) {
        this.target = target;
        this.listeners = listeners;
    }

    public ControllerManager(Target target) {
        this(target, ListenAddress.Source.NONE);
    }

    Target target() {
        return target;
    }

    ListenAddress.Source listeners() {
        return listeners;
    }

    /** Discovery log page generation counter (GENCTR). */
    public long discoveryGeneration() {
        return discoveryGeneration;
    }

    /** The live controllers of {@code subnqn}, by cntlid. */
    public List<Controller> controllers(String subnqn) {
        TreeMap<Integer, Controller> m = controllers.get(subnqn);
        return m == null ? List.of() : List.copyOf(m.values());
    }

    public Controller controller(String subnqn, int cntlid) {
        TreeMap<Integer, Controller> m = controllers.get(subnqn);
        return m == null ? null : m.get(cntlid);
    }

    /**
     * Executes a Fabrics Connect that arrived on queue {@code cmd.sqe().connect().qid()} of a connection of the
     * transport with options {@code opts}. Completes {@code cmd} (cntlid in DW0 on success) and answers the
     * binding, or null when the Connect failed.
     */
    public Binding connect(AdminCommand cmd, TransportOptions opts, long nowNanos) {
        return connect(cmd, opts, nowNanos, null, "?");
    }

    /**
     * Runs a Fabrics Connect that arrived through listener {@code at} from {@code peer} (for log lines): as
     * {@link #connect(AdminCommand, TransportOptions, long)}, and a subsystem of type NVMe refuses a host that
     * came in through a listener it does not have (the discovery subsystem answers on every listener). {@code at}
     * null skips the check. Every refusal is logged at INFO with the field and value that caused it.
     */
    public Binding connect(AdminCommand cmd, TransportOptions opts, long nowNanos, ListenAddress at, String peer) {
        Sqe sqe = cmd.sqe();
        if (sqe.opcode() != Opcode.FABRICS || sqe.fabrics().fctype() != Opcode.Fabrics.CONNECT) {
            return refuse(cmd, peer, Status.field(Status.INVALID_OPCODE, true), 0,
                    "not a Fabrics Connect (opcode 0x" + Integer.toHexString(sqe.opcode()) + ")");
        }
        Sqe.Connect c = sqe.connect();
        if (c.recfmt() != 0) {
            return refuse(cmd, peer, Status.field(Status.INCOMPATIBLE_FORMAT, true), 0,
                    "RECFMT " + c.recfmt() + " is not 0");
        }
        MemorySegment data = cmd.data();
        if (data == null || cmd.length() < ConnectData.SIZE || data.byteSize() < ConnectData.SIZE) {
            return refuse(cmd, peer, Status.field(Status.DATA_SGL_LENGTH_INVALID, true), 0,
                    "Connect data of " + cmd.length() + " bytes, not " + ConnectData.SIZE);
        }
        ConnectData d = connectData.wrap(data, 0);
        String subnqn = d.subnqn();
        String hostnqn = d.hostnqn();
        int qid = c.qid();
        int sqsize = c.sqsize();
        NvmfSubsystem s = target.subsystem(subnqn);
        if (s == null || s.state() != NvmfSubsystem.State.ACTIVE) {
            return invalidParam(cmd, peer, true, IPO_SUBNQN, "SUBNQN '" + subnqn + "': "
                    + (s == null ? "no such subsystem" : "subsystem is " + s.state()));
        }
        // An empty HOSTNQN is what SPDK's perf sends without hostnqn: in its transport ID; SPDK and Linux accept it
        // where any host may connect, and an allow list refuses it like any host it does not name.
        if (at != null && s.type() == NvmfSubsystem.Type.NVME && !listeners.listeners(s).contains(at)) {
            return refuse(cmd, peer, Status.field(Status.CONNECT_INVALID_HOST, true), iattrIpo(true, IPO_SUBNQN),
                    "subsystem " + subnqn + " does not listen on " + at.traddr() + ":" + at.trsvcid()
                    + " (host '" + hostnqn + "')");
        }
        if (!s.hostAllowed(hostnqn)) {
            return refuse(cmd, peer, Status.field(Status.CONNECT_INVALID_HOST, true), iattrIpo(true, IPO_HOSTNQN),
                    "HOSTNQN '" + hostnqn + "' is not allowed to connect to " + subnqn);
        }
        long depthLimit = qid == 0 ? opts.maxAqDepth() : opts.maxQueueDepth();
        if (sqsize == 0 || sqsize >= depthLimit) {
            return invalidParam(cmd, peer, false, IPO_SQSIZE, "SQSIZE " + sqsize + " of queue " + qid
                    + " is outside 1.." + (depthLimit - 1) + " (" + (qid == 0 ? "max_aq_depth" : "max_queue_depth")
                    + " " + depthLimit + ")");
        }
        if (qid == 0) {
            return connectAdmin(cmd, opts, s, d, hostnqn, sqsize, c.kato(), nowNanos, peer);
        }
        if (s.type() == NvmfSubsystem.Type.DISCOVERY) { // the discovery subsystem has an admin queue only
            return invalidParam(cmd, peer, false, IPO_QID, "QID " + qid + " on the discovery subsystem");
        }
        Controller ctrlr = controller(subnqn, d.cntlid());
        if (ctrlr == null || ctrlr.destroyed()) {
            return invalidParam(cmd, peer, true, IPO_CNTLID, "CNTLID " + d.cntlid() + ": no such controller of "
                    + subnqn);
        }
        if (!ctrlr.hostnqn().equals(hostnqn)) {
            return invalidParam(cmd, peer, true, IPO_HOSTNQN, "HOSTNQN '" + hostnqn + "' is not controller "
                    + d.cntlid() + "'s host '" + ctrlr.hostnqn() + "'");
        }
        return ctrlr.connectIoQueue(cmd, qid, sqsize, nowNanos, peer);
    }

    private Binding connectAdmin(AdminCommand cmd, TransportOptions opts, NvmfSubsystem s, ConnectData d,
            String hostnqn, int sqsize, long kato, long nowNanos, String peer) {
        int cntlid = d.cntlid();
        if (cntlid != ConnectData.CNTLID_DYNAMIC && cntlid != ConnectData.CNTLID_ANY_STATIC) {
            return invalidParam(cmd, peer, true, IPO_CNTLID, "CNTLID 0x" + Integer.toHexString(cntlid)
                    + " (Keel's controllers are all dynamic: 0xFFFF or 0xFFFE)");
        }
        int id = allocateCntlid(s);
        if (id == 0) {
            return refuse(cmd, peer, Status.field(Status.CONTROLLER_BUSY, false), 0,
                    "no free controller ID in " + s.nqn());
        }
        Controller ctrlr = new Controller(this, s, id, hostnqn, d.hostIdUuid(), opts, sqsize, kato, nowNanos);
        controllers.computeIfAbsent(s.nqn(), k -> new TreeMap<>()).put(id, ctrlr);
        live.add(ctrlr);
        LOG.info("nvmf: controller {} of {} created for host {}", id, s.nqn(), hostnqn);
        cmd.complete(Status.field(Status.SUCCESS, false), id, 0);
        return new Binding(ctrlr, 0, ctrlr.activity(0));
    }

    /** Next free cntlid within the subsystem's [min_cntlid, max_cntlid], round robin as SPDK does; 0 if none. */
    private int allocateCntlid(NvmfSubsystem s) {
        int min = s.options() != null ? s.options().minCntlid() : MIN_CNTLID;
        int max = s.options() != null ? s.options().maxCntlid() : MAX_CNTLID;
        TreeMap<Integer, Controller> used = controllers.get(s.nqn());
        int next = nextCntlid.getOrDefault(s.nqn(), min);
        for (int i = 0; i <= max - min; i++) {
            int id = next < min || next > max ? min : next;
            next = id + 1;
            if (used == null || !used.containsKey(id)) {
                nextCntlid.put(s.nqn(), next);
                return id;
            }
        }
        return 0;
    }

    /** Tears a controller down at once (admin queue gone, keep-alive expired): held AERs are aborted. */
    public void destroy(Controller ctrlr) {
        ctrlr.destroy();
        TreeMap<Integer, Controller> m = controllers.get(ctrlr.subsystem().nqn());
        if (m != null && m.remove(ctrlr.cntlid(), ctrlr)) {
            live.remove(ctrlr);
        }
    }

    /**
     * Checks every controller's keep-alive timer (the poller's job, ten times a second); answers the controllers that
     * expired now, already torn down: an empty list, made by nobody, when none did (the check allocates nothing then).
     */
    public List<Controller> checkKeepAlive(long nowNanos) {
        List<Controller> expired = List.of();
        for (int i = 0; i < live.size(); i++) {
            Controller c = live.get(i);
            if (c.checkKeepAlive(nowNanos)) {
                if (expired.isEmpty()) {
                    expired = new ArrayList<>();
                }
                expired.add(c);
            }
        }
        for (int i = 0; i < expired.size(); i++) {
            destroy(expired.get(i));
        }
        return expired;
    }

    /** A namespace of {@code subnqn} was added, removed or changed: tell its controllers (Namespace Attribute AEN). */
    public void namespaceChanged(String subnqn, long nsid) {
        for (Controller c : controllers(subnqn)) {
            c.namespaceChanged(nsid);
        }
    }

    /** The Discovery log page changed (a subsystem, host or listener came or went): bump GENCTR and notify. */
    public void discoveryLogChanged() {
        discoveryGeneration++;
        for (Controller c : controllers(Nqn.DISCOVERY)) {
            c.discoveryLogChanged();
        }
    }

    static int iattrIpo(boolean inData, int ipo) {
        return (inData ? 1 : 0) | (ipo & 0xFFFF) << 16;
    }

    static Binding invalidParam(AdminCommand cmd, String peer, boolean inData, int ipo, String why) {
        return refuse(cmd, peer, Status.field(Status.CONNECT_INVALID_PARAMETERS, true), iattrIpo(inData, ipo), why);
    }

    /** Answers a Connect with {@code statusField} and logs why (rule: every refused connection says why). */
    static Binding refuse(AdminCommand cmd, String peer, int statusField, int dw0, String why) {
        LOG.info("nvmf: Connect from {} refused: {}", peer, why);
        cmd.complete(statusField, dw0, 0);
        return null;
    }
}
