package io.keel.nvmf.ctrlr;

import io.keel.bdev.Bdev;
import io.keel.bdev.IoType;
import io.keel.nvme.spec.Cns;
import io.keel.nvme.spec.CommandEffectsLog;
import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvme.spec.FeatureId;
import io.keel.nvme.spec.FirmwareSlotLog;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.LogPageId;
import io.keel.nvme.spec.NamespaceIdDescriptorList;
import io.keel.nvme.spec.NamespaceIdList;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.SmartLog;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.TransportOptions;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe-oF controller (SPDK's {@code spdk_nvmf_ctrlr}): its admin command set, its properties, features and
 * asynchronous events, the queues bound to it and its keep-alive timer. Created by a Fabrics Connect on an admin
 * queue ({@link ControllerManager#connect}); owned by one thread (R1), which runs {@link #execute} for every
 * admin-queue command and the keep-alive poller. Socket free: commands come as {@link AdminCommand}s.
 */
public final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    /** Where a controller is in its life. */
    public enum State {
        /** Admin queue connected, CC.EN = 0 (also after a reset). */
        CONNECTED,
        /** CC.EN = 1, CSTS.RDY = 1: admin commands and I/O queue connects are accepted. */
        ENABLED,
        /** The host set CC.SHN; CSTS.SHST = complete. */
        SHUTDOWN,
        /** No command on any queue for KATO: the owner tears it down. */
        KEEP_ALIVE_EXPIRED,
        /** Torn down; every command fails. */
        DESTROYED
    }

    // Values SPDK's target reports (../shared/reference/spdk-nvme-identify-*.txt).
    /** PCI vendor and subsystem vendor ID (SPDK reports Intel's, 8086h). */
    static final int VID = 0x8086;
    static final int IEEE_OUI = 0x5CD2E4;
    static final int RAB = 6;
    /** CAP.TO in 500 ms units: "Reset Timeout: 15000 ms". */
    static final int CAP_TO = 30;
    /** Abort Command Limit (1-based) — the discovery controller reports 1. */
    static final int ACL = 4;
    /** Asynchronous Event Request Limit (1-based). */
    static final int AERL = 4;
    /** Error Log Page Entries (1-based). */
    static final int ELPE = 128;
    /** A discovery controller connected with KATO 0 gets SPDK's 2 minutes. */
    static final long DISCOVERY_KATO_MS = 120_000;
    /** Keep Alive Timer granularity unit of KAS, in ms. */
    static final long KAS_UNIT_MS = 100;
    static final int AEN_NAMESPACE_ATTRIBUTE = 1 << 8;
    static final int AEN_DISCOVERY_LOG_CHANGE = 1 << 31;
    /** Async event type Notice (2), information 00h namespace attribute changed / F0h discovery log changed. */
    static final int AER_NOTICE = 2;
    static final int AER_INFO_NS_ATTRIBUTE = 0x00;
    static final int AER_INFO_DISCOVERY_LOG = 0xF0;

    /** Firmware revision: Keel's version, at most 8 ASCII characters. */
    public static final String FIRMWARE_REVISION = firmwareRevision();

    private final ControllerManager manager;
    private final NvmfSubsystem subsystem;
    private final boolean discovery;
    private final int cntlid;
    private final String hostnqn;
    private final UUID hostId;
    private final TransportOptions opts;
    private final int adminSqsize;

    private State state = State.CONNECTED;
    private int cc;
    private int csts;
    private long katoMs;
    private int asyncEventConfig;
    private int arbitration;
    private int powerState;
    private boolean writeCacheEnabled;
    private int grantedIoQueues;
    private boolean queuesSet;
    private final TreeMap<Integer, QueueActivity> queues = new TreeMap<>();
    /** {@link #queues}' values, copied at each change: the keep-alive check reads them without an iterator. */
    private QueueActivity[] activities = new QueueActivity[0];
    private final ArrayDeque<AdminCommand> heldAers = new ArrayDeque<>();
    /** Events waiting for an AER (DW0 values), and the log pages whose event is delivered but not yet read. */
    private final ArrayDeque<Integer> pendingEvents = new ArrayDeque<>();
    private final TreeSet<Integer> maskedLogPages = new TreeSet<>();
    private final TreeSet<Long> changedNamespaces = new TreeSet<>();
    private boolean changedOverflow;
    private long keepAlives;

    /** Identify data is built here, then copied into the command's buffer (heap: it lives as the controller does). */
    private final MemorySegment scratch = MemorySegment.ofArray(new long[512]);
    private final IdentifyController idCtrlr = new IdentifyController();
    private final IdentifyNamespace idNs = new IdentifyNamespace();
    private final NamespaceIdList nsList = new NamespaceIdList();
    private final NamespaceIdDescriptorList nsDescs = new NamespaceIdDescriptorList();

    Controller(ControllerManager manager, NvmfSubsystem subsystem, int cntlid, String hostnqn, UUID hostId,
            TransportOptions opts, int adminSqsize, long connectKatoMs, long nowNanos) {
        this.manager = manager;
        this.subsystem = subsystem;
        this.discovery = subsystem.type() == NvmfSubsystem.Type.DISCOVERY;
        this.cntlid = cntlid;
        this.hostnqn = hostnqn;
        this.hostId = hostId;
        this.opts = opts;
        this.adminSqsize = adminSqsize;
        this.katoMs = connectKatoMs == 0 ? (discovery ? DISCOVERY_KATO_MS : 0) : roundKato(connectKatoMs);
        this.grantedIoQueues = discovery ? 0 : opts.maxIoQpairsPerCtrlr();
        queues.put(0, new QueueActivity(0, nowNanos));
        queuesChanged();
    }

    // ---- accessors ----

    public NvmfSubsystem subsystem() {
        return subsystem;
    }

    public int cntlid() {
        return cntlid;
    }

    public String hostnqn() {
        return hostnqn;
    }

    public UUID hostId() {
        return hostId;
    }

    public State state() {
        return state;
    }

    public boolean discovery() {
        return discovery;
    }

    boolean destroyed() {
        return state == State.DESTROYED;
    }

    /** The keep-alive timeout in ms (0: disabled). */
    public long katoMs() {
        return katoMs;
    }

    public int cc() {
        return cc;
    }

    public int csts() {
        return csts;
    }

    /** Number of I/O queues granted (Set Features Number of Queues; max_io_qpairs_per_ctrlr until then). */
    public int grantedIoQueues() {
        return grantedIoQueues;
    }

    /** The connected queue IDs, admin (0) included. */
    public List<Integer> queueIds() {
        return List.copyOf(queues.keySet());
    }

    /** The activity stamp of queue {@code qid}, or null if not connected. */
    public QueueActivity activity(int qid) {
        return queues.get(qid);
    }

    /** Async Event Requests held, waiting for an event. */
    public int heldAsyncEventRequests() {
        return heldAers.size();
    }

    /** SQSIZE (0-based) the admin queue connected with. */
    public int adminSqsize() {
        return adminSqsize;
    }

    public long keepAlives() {
        return keepAlives;
    }

    // ---- queues ----

    /** Binds I/O queue {@code qid} if this controller can take it now; a refusal is answered and logged. */
    ControllerManager.Binding connectIoQueue(AdminCommand cmd, int qid, int sqsize, long nowNanos, String peer) {
        if (state != State.ENABLED) {
            return ControllerManager.refuse(cmd, peer, Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0,
                    "controller " + cntlid + " is " + state + ", not enabled, for I/O queue " + qid);
        }
        if (Properties.Cc.iosqes(cc) != 6 || Properties.Cc.iocqes(cc) != 4) {
            return ControllerManager.refuse(cmd, peer, Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0,
                    "controller " + cntlid + " has CC.IOSQES " + Properties.Cc.iosqes(cc) + " / CC.IOCQES "
                    + Properties.Cc.iocqes(cc) + ", not 6 / 4");
        }
        if (qid > grantedIoQueues) {
            return ControllerManager.invalidParam(cmd, peer, false, ControllerManager.IPO_QID, "QID " + qid
                    + " is beyond the " + grantedIoQueues + " I/O queues granted to controller " + cntlid);
        }
        if (queues.containsKey(qid)) {
            return ControllerManager.invalidParam(cmd, peer, false, ControllerManager.IPO_QID, "QID " + qid
                    + " is already connected on controller " + cntlid);
        }
        QueueActivity a = new QueueActivity(qid, nowNanos);
        queues.put(qid, a);
        queuesChanged();
        queues.get(0).touch(nowNanos);
        cmd.complete(Status.field(Status.SUCCESS, false), cntlid, 0);
        return new ControllerManager.Binding(this, qid, a);
    }

    /** Queue {@code qid} went away (disconnect); the admin queue going away is {@link ControllerManager#destroy}. */
    public void queueDisconnected(int qid) {
        if (qid != 0) {
            queues.remove(qid);
            queuesChanged();
        }
    }

    void destroy() {
        if (state == State.DESTROYED) {
            return;
        }
        state = State.DESTROYED;
        abortHeldAers();
        queues.clear();
        queuesChanged();
        LOG.info("nvmf: controller {} of {} destroyed", cntlid, subsystem.nqn());
    }

    // ---- keep-alive (R8) ----

    /**
     * Whether the keep-alive timer expired at {@code nowNanos}: KATO passed since the last command on ANY of the
     * controller's queues (admin and I/O, whatever thread they live on). Moves the state to KEEP_ALIVE_EXPIRED;
     * the caller tears the controller down. False when KATO is 0 or the controller is already gone.
     */
    public boolean checkKeepAlive(long nowNanos) {
        if (state == State.KEEP_ALIVE_EXPIRED) {
            return true;
        }
        if (katoMs == 0 || state == State.DESTROYED) {
            return false;
        }
        long last = Long.MIN_VALUE;
        for (QueueActivity a : activities) { // ten times a second: an array, no iterator
            long t = a.lastNanos();
            if (last == Long.MIN_VALUE || t - last > 0) {
                last = t;
            }
        }
        if (nowNanos - last > katoMs * 1_000_000L) {
            LOG.warn("nvmf: controller {} of {}: keep-alive timer ({} ms) expired", cntlid, subsystem.nqn(), katoMs);
            state = State.KEEP_ALIVE_EXPIRED;
            return true;
        }
        return false;
    }

    /** KATO as SPDK applies it: at least min_kato, rounded up to the KAS granularity (kas × 100 ms). */
    long roundKato(long ms) {
        long v = Math.max(ms, opts.minKato());
        long unit = Math.max(1, opts.kas()) * KAS_UNIT_MS;
        return (v + unit - 1) / unit * unit;
    }

    // ---- asynchronous events ----

    /** A namespace was added, removed or resized: record it and raise a Namespace Attribute Notice if enabled. */
    public void namespaceChanged(long nsid) {
        if (discovery || state == State.DESTROYED) {
            return;
        }
        if (changedNamespaces.size() >= NamespaceIdList.CAPACITY) {
            changedOverflow = true;
        } else {
            changedNamespaces.add(nsid);
        }
        if ((asyncEventConfig & AEN_NAMESPACE_ATTRIBUTE) != 0) {
            raise(aerDw0(AER_NOTICE, AER_INFO_NS_ATTRIBUTE, LogPageId.CHANGED_NAMESPACE_LIST));
        }
    }

    void discoveryLogChanged() {
        if (discovery && (asyncEventConfig & AEN_DISCOVERY_LOG_CHANGE) != 0) {
            raise(aerDw0(AER_NOTICE, AER_INFO_DISCOVERY_LOG, LogPageId.DISCOVERY));
        }
    }

    static int aerDw0(int type, int info, int lid) {
        return type & 0x7 | (info & 0xFF) << 8 | (lid & 0xFF) << 16;
    }

    private void raise(int dw0) {
        int lid = dw0 >>> 16 & 0xFF;
        if (maskedLogPages.contains(lid) || pendingEvents.contains(dw0)) {
            return; // already reported and the host has not read the log page yet
        }
        pendingEvents.add(dw0);
        deliverEvents();
    }

    private void deliverEvents() {
        while (!pendingEvents.isEmpty() && !heldAers.isEmpty()) {
            int dw0 = pendingEvents.poll();
            maskedLogPages.add(dw0 >>> 16 & 0xFF);
            heldAers.poll().complete(Status.field(Status.SUCCESS, false), dw0, 0);
        }
    }

    private void abortHeldAers() {
        while (!heldAers.isEmpty()) {
            heldAers.poll().complete(Status.field(Status.ABORTED_SQ_DELETION, false), 0, 0);
        }
    }

    // ---- admin commands ----

    /** Executes one command of the admin queue (records activity first). */
    public void execute(AdminCommand cmd, long nowNanos) {
        QueueActivity admin = queues.get(0);
        if (admin != null) {
            admin.touch(nowNanos);
        }
        Sqe sqe = cmd.sqe();
        if (state == State.DESTROYED || state == State.KEEP_ALIVE_EXPIRED) {
            fail(cmd, Status.COMMAND_SEQUENCE_ERROR);
            return;
        }
        if (sqe.opcode() == Opcode.FABRICS) {
            switch (sqe.fabrics().fctype()) {
                case Opcode.Fabrics.PROPERTY_GET -> propertyGet(cmd);
                case Opcode.Fabrics.PROPERTY_SET -> propertySet(cmd);
                case Opcode.Fabrics.CONNECT -> fail(cmd, Status.COMMAND_SEQUENCE_ERROR);
                case Opcode.Fabrics.DISCONNECT -> ok(cmd, 0);
                default -> fail(cmd, Status.INVALID_OPCODE);
            }
            return;
        }
        if (!Properties.Cc.en(cc)) {
            fail(cmd, Status.COMMAND_SEQUENCE_ERROR); // non-Fabrics command to a disabled controller
            return;
        }
        int opc = sqe.opcode();
        if (discovery && opc != Opcode.IDENTIFY && opc != Opcode.GET_LOG_PAGE && opc != Opcode.GET_FEATURES
                && opc != Opcode.SET_FEATURES && opc != Opcode.ASYNC_EVENT_REQUEST && opc != Opcode.KEEP_ALIVE) {
            fail(cmd, Status.INVALID_OPCODE);
            return;
        }
        switch (opc) {
            case Opcode.IDENTIFY -> identify(cmd);
            case Opcode.GET_LOG_PAGE -> getLogPage(cmd);
            case Opcode.GET_FEATURES -> getFeatures(cmd);
            case Opcode.SET_FEATURES -> setFeatures(cmd);
            case Opcode.ASYNC_EVENT_REQUEST -> asyncEventRequest(cmd);
            case Opcode.KEEP_ALIVE -> {
                keepAlives++;
                ok(cmd, 0);
            }
            case Opcode.ABORT -> ok(cmd, 1); // bit 0 = 1: command not aborted
            default -> fail(cmd, Status.INVALID_OPCODE);
        }
    }

    private void asyncEventRequest(AdminCommand cmd) {
        if (heldAers.size() >= AERL) {
            fail(cmd, Status.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED);
            return;
        }
        heldAers.add(cmd);
        deliverEvents();
    }

    // ---- properties ----

    /** CAP: MQES max_queue_depth - 1, CQR, TO 15 s, CSS NVM, MPSMIN = MPSMAX = 4 KiB. */
    public long cap() {
        return Properties.Cap.of(opts.maxQueueDepth() - 1, true, 0, CAP_TO, 0, false, Properties.Cap.CSS_NVM, 0, 0);
    }

    private void propertyGet(AdminCommand cmd) {
        Sqe.Property p = cmd.sqe().property();
        int ofst = p.ofst();
        int size = Properties.sizeOf(ofst);
        if ((p.attrib() & 0x7) > 1 || size != p.sizeBytes()) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        long v;
        switch (ofst) {
            case Properties.CAP -> v = cap();
            case Properties.VS -> v = Properties.VS_2_0;
            case Properties.CC -> v = cc & 0xFFFF_FFFFL;
            case Properties.CSTS -> v = csts & 0xFFFF_FFFFL;
            default -> {
                fail(cmd, Status.INVALID_FIELD);
                return;
            }
        }
        cmd.complete(Status.field(Status.SUCCESS, false), (int) v, (int) (v >>> 32));
    }

    private void propertySet(AdminCommand cmd) {
        Sqe.Property p = cmd.sqe().property();
        if (p.ofst() != Properties.CC || p.sizeBytes() != 4 || (p.attrib() & 0x7) > 1) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        int v = (int) p.value();
        boolean wasEnabled = Properties.Cc.en(cc);
        boolean en = Properties.Cc.en(v);
        int shn = Properties.Cc.shn(v);
        if (!wasEnabled && en) {
            if (Properties.Cc.css(v) != 0 || Properties.Cc.mps(v) != 0) {
                fail(cmd, Status.INVALID_FIELD); // only NVM command set, 4 KiB pages
                return;
            }
            cc = v;
            csts = Properties.Csts.of(true, false, Properties.Csts.SHST_NORMAL);
            state = State.ENABLED;
            LOG.debug("nvmf: controller {} enabled", cntlid);
        } else if (wasEnabled && !en) {
            cc = v;
            reset();
        } else {
            cc = v;
        }
        if (shn != Properties.Cc.SHN_NONE && Properties.Cc.en(cc)) {
            // Keel has nothing to flush on the admin path: the shutdown completes at once
            csts = Properties.Csts.of(false, false, Properties.Csts.SHST_COMPLETE);
            state = State.SHUTDOWN;
            dropIoQueues();
            LOG.info("nvmf: controller {} of {} shut down", cntlid, subsystem.nqn());
        } else if (shn != Properties.Cc.SHN_NONE) {
            csts = Properties.Csts.of(false, false, Properties.Csts.SHST_COMPLETE);
        }
        ok(cmd, 0);
    }

    /** CC.EN 1 → 0: I/O queues go, held AERs are aborted, CSTS clears, features return to their defaults. */
    private void reset() {
        csts = 0;
        state = State.CONNECTED;
        dropIoQueues();
        abortHeldAers();
        pendingEvents.clear();
        maskedLogPages.clear();
        grantedIoQueues = discovery ? 0 : opts.maxIoQpairsPerCtrlr();
        queuesSet = false;
        LOG.info("nvmf: controller {} of {} reset", cntlid, subsystem.nqn());
    }

    private void dropIoQueues() {
        queues.keySet().removeIf(q -> q != 0);
        queuesChanged();
    }

    private void queuesChanged() {
        activities = queues.values().toArray(new QueueActivity[0]);
    }

    // ---- identify ----

    private void identify(AdminCommand cmd) {
        Sqe sqe = cmd.sqe();
        int cns = sqe.identify().cns();
        int nsid = sqe.nsid();
        if (discovery && cns != Cns.CONTROLLER) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        scratch.fill((byte) 0); // the scratch page is reused for every Identify
        switch (cns) {
            case Cns.CONTROLLER -> fillIdentifyController(idCtrlr.wrap(scratch, 0));
            case Cns.NAMESPACE -> {
                if (!validNsid(nsid)) {
                    fail(cmd, Status.INVALID_NAMESPACE_OR_FORMAT);
                    return;
                }
                Namespace ns = subsystem.namespace(Integer.toUnsignedLong(nsid));
                if (ns != null) {
                    fillIdentifyNamespace(idNs.wrap(scratch, 0), ns);
                } // an inactive NSID answers zeroes
            }
            case Cns.ACTIVE_NAMESPACE_LIST -> {
                if (Integer.compareUnsigned(nsid, 0xFFFF_FFFE) >= 0) {
                    fail(cmd, Status.INVALID_NAMESPACE_OR_FORMAT);
                    return;
                }
                List<Namespace> all = subsystem.namespaces();
                int[] ids = new int[all.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = (int) all.get(i).nsid();
                }
                nsList.wrap(scratch, 0).fillActive(ids, ids.length, nsid);
            }
            case Cns.NAMESPACE_ID_DESCRIPTORS -> {
                Namespace ns = validNsid(nsid) ? subsystem.namespace(Integer.toUnsignedLong(nsid)) : null;
                if (ns == null) {
                    fail(cmd, Status.INVALID_NAMESPACE_OR_FORMAT);
                    return;
                }
                NamespaceIdDescriptorList d = nsDescs.wrap(scratch, 0).reset();
                byte[] eui64 = ns.eui64();
                if (eui64 != null) {
                    d.addEui64(eui64);
                }
                d.addNguid(ns.nguid());
                d.addUuid(ns.uuid());
                d.addCsi(Cns.CSI_NVM);
            }
            default -> {
                fail(cmd, Status.INVALID_FIELD);
                return;
            }
        }
        copyOut(cmd, scratch, 4096, 0);
        ok(cmd, 0);
    }

    private boolean validNsid(int nsid) {
        long max = discovery ? 0 : subsystem.options().maxNamespaces();
        return nsid != 0 && Integer.toUnsignedLong(nsid) <= max;
    }

    /** Identify Controller as SPDK's target fills it (field by field against the reference). */
    void fillIdentifyController(IdentifyController c) {
        c.fr(FIRMWARE_REVISION);
        c.mdts(Long.numberOfTrailingZeros(Math.max(1, opts.maxIoSize() / 4096)));
        c.cntlid(cntlid);
        c.ver(Properties.VS_2_0);
        c.lpa(IdentifyController.LPA_EXTENDED_DATA);
        c.elpe(ELPE - 1);
        c.aerl(AERL - 1);
        c.subnqn(subsystem.nqn());
        c.sgls(IdentifyController.SGLS_SUPPORTED | IdentifyController.SGLS_KEYED | IdentifyController.SGLS_OFFSET);
        c.maxcmd(opts.maxQueueDepth());
        c.fuses(0); // Keel executes no fused commands (SPDK reports compare-and-write here)
        c.awun(0);
        c.awupf(0);
        c.acwu(0);
        c.msdbd(1);
        c.ioccsz((int) ((64 + opts.inCapsuleDataSize()) / 16));
        c.iorcsz(1);
        c.icdoff(0);
        c.fcatt(0); // dynamic controller model
        if (discovery) {
            c.cntrltype(IdentifyController.CNTRLTYPE_DISCOVERY);
            c.acl(0);
            c.oaes(IdentifyController.OAES_DISCOVERY_LOG_CHANGE);
            c.sqes(0, 0);
            c.cqes(0, 0);
            c.nn(0);
            return;
        }
        List<Namespace> nss = subsystem.namespaces();
        NvmfSubsystem.Options o = subsystem.options();
        c.vid(VID);
        c.ssvid(VID);
        c.sn(o.serialNumber());
        c.mn(o.modelNumber());
        c.rab(RAB);
        c.ieee(IEEE_OUI);
        c.cmic(0x3); // multiple ports, multiple controllers
        c.oaes(IdentifyController.OAES_NAMESPACE_ATTRIBUTE);
        c.ctratt(IdentifyController.CTRATT_HOST_ID_128);
        c.cntrltype(IdentifyController.CNTRLTYPE_IO);
        c.oacs(0);
        c.acl(ACL - 1);
        c.frmw(0x3); // slot 1 read only, one slot
        c.lpa(IdentifyController.LPA_COMMANDS_EFFECTS | IdentifyController.LPA_EXTENDED_DATA
                | IdentifyController.LPA_SUPPORTED_LOG_PAGES);
        c.npss(0);
        c.kas(opts.kas());
        c.sqes(6, 6);
        c.cqes(4, 4);
        c.nn((int) o.maxNamespaces());
        c.mnan(0);
        c.oncs(oncs(nss));
        c.vwc(vwcPresent(nss) ? IdentifyController.VWC_PRESENT | 0x4 : 0x4); // flush broadcast not supported
        c.ofcs(0);
    }

    /** ONCS from what every namespace's bdev supports: Compare, Dataset Management (unmap), Write Zeroes. */
    static int oncs(List<Namespace> nss) {
        boolean compare = !nss.isEmpty();
        boolean dsm = !nss.isEmpty();
        boolean wz = !nss.isEmpty();
        for (Namespace ns : nss) {
            Bdev b = ns.desc().bdev();
            compare &= b.supports(IoType.COMPARE) || b.supports(IoType.READ);
            dsm &= b.supports(IoType.UNMAP);
            wz &= b.supports(IoType.WRITE_ZEROES) || b.supports(IoType.WRITE);
        }
        return (compare ? IdentifyController.ONCS_COMPARE : 0) | (dsm ? IdentifyController.ONCS_DSM : 0)
                | (wz ? IdentifyController.ONCS_WRITE_ZEROES : 0);
    }

    static boolean vwcPresent(List<Namespace> nss) {
        for (Namespace ns : nss) {
            if (ns.desc().bdev().writeCache()) {
                return true;
            }
        }
        return false;
    }

    void fillIdentifyNamespace(IdentifyNamespace n, Namespace ns) {
        Bdev b = ns.desc().bdev();
        long blocks = b.numBlocks();
        n.nsze(blocks);
        n.ncap(blocks);
        n.nuse(blocks);
        n.nsfeat(IdentifyNamespace.NSFEAT_NS_ATOMICS);
        n.nlbaf(0);
        n.flbas(0);
        n.lbaf(0, 0, Integer.numberOfTrailingZeros(b.blockSize()), 0);
        n.nmic(IdentifyNamespace.NMIC_SHARED);
        n.dlfeat(0);
        if (b.optimalIoBoundary() > 0) {
            n.noiob(b.optimalIoBoundary());
        }
        n.nguid(ns.nguid());
        byte[] eui64 = ns.eui64();
        if (eui64 != null) {
            n.eui64(eui64);
        }
    }

    // ---- log pages ----

    private void getLogPage(AdminCommand cmd) {
        Sqe.GetLogPage g = cmd.sqe().getLogPage();
        long lpo = g.lpo();
        long len = g.lengthBytes();
        int lid = g.lid();
        if (g.ot() || (lpo & 3) != 0) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        MemorySegment page;
        if (discovery) {
            if (lid != LogPageId.DISCOVERY) {
                fail(cmd, Status.INVALID_LOG_PAGE);
                return;
            }
            page = discoveryLog();
        } else {
            switch (lid) {
                case LogPageId.ERROR_INFORMATION -> page = MemorySegment.ofArray(new byte[64 * ELPE]);
                case LogPageId.SMART_HEALTH -> page = smartLog();
                case LogPageId.FIRMWARE_SLOT -> {
                    page = MemorySegment.ofArray(new byte[FirmwareSlotLog.SIZE]);
                    new FirmwareSlotLog().wrap(page).afi(1, 0).revision(1, FIRMWARE_REVISION);
                }
                case LogPageId.CHANGED_NAMESPACE_LIST -> {
                    page = MemorySegment.ofArray(new byte[NamespaceIdList.SIZE]);
                    int[] ids = changedNamespaces.stream().mapToInt(Long::intValue).toArray();
                    new NamespaceIdList().wrap(page).fillChanged(ids, changedOverflow ? NamespaceIdList.CAPACITY + 1
                            : ids.length);
                }
                case LogPageId.COMMANDS_SUPPORTED_AND_EFFECTS -> page = commandEffects();
                default -> {
                    fail(cmd, Status.INVALID_LOG_PAGE);
                    return;
                }
            }
        }
        if (lpo > page.byteSize()) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        copyOut(cmd, page, len, lpo);
        if (lid == LogPageId.CHANGED_NAMESPACE_LIST) {
            changedNamespaces.clear();
            changedOverflow = false;
        }
        if (!g.rae()) {
            maskedLogPages.remove(lid); // reading the page re-arms its event
        }
        ok(cmd, 0);
    }

    private MemorySegment smartLog() {
        MemorySegment page = MemorySegment.ofArray(new byte[SmartLog.SIZE]);
        new SmartLog().wrap(page).compositeTemperature(298).availableSpare(100).availableSpareThreshold(10)
                .percentageUsed(0).powerCycles(1);
        return page;
    }

    private MemorySegment commandEffects() {
        MemorySegment page = MemorySegment.ofArray(new byte[CommandEffectsLog.SIZE]);
        CommandEffectsLog l = new CommandEffectsLog().wrap(page);
        for (int opc : new int[] {Opcode.GET_LOG_PAGE, Opcode.IDENTIFY, Opcode.ABORT, Opcode.SET_FEATURES,
            Opcode.GET_FEATURES, Opcode.ASYNC_EVENT_REQUEST, Opcode.KEEP_ALIVE}) {
            l.admin(opc, CommandEffectsLog.CSUPP);
        }
        int oncs = oncs(subsystem.namespaces());
        l.io(Opcode.FLUSH, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        l.io(Opcode.WRITE, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        l.io(Opcode.READ, CommandEffectsLog.CSUPP);
        if ((oncs & IdentifyController.ONCS_COMPARE) != 0) {
            l.io(Opcode.COMPARE, CommandEffectsLog.CSUPP);
        }
        if ((oncs & IdentifyController.ONCS_WRITE_ZEROES) != 0) {
            l.io(Opcode.WRITE_ZEROES, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        }
        if ((oncs & IdentifyController.ONCS_DSM) != 0) {
            l.io(Opcode.DATASET_MANAGEMENT, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        }
        return page;
    }

    /**
     * The Discovery log page for this host: the discovery subsystem's own listeners (subtype 3, as SPDK reports
     * them), then each NVMe subsystem the host may connect to, once per listener. The Target has no listeners
     * yet, so with {@link ListenAddress.Source#NONE} the page has no records.
     */
    MemorySegment discoveryLog() {
        List<DiscoveryEntry> entries = new ArrayList<>();
        for (NvmfSubsystem s : manager.target().subsystems()) {
            if (s.state() != NvmfSubsystem.State.ACTIVE) {
                continue;
            }
            boolean current = s.type() == NvmfSubsystem.Type.DISCOVERY;
            if (!current && !s.hostAllowed(hostnqn)) {
                continue;
            }
            for (ListenAddress a : manager.listeners().listeners(s)) {
                entries.add(new DiscoveryEntry(s.nqn(), current, a));
            }
        }
        entries.sort((x, y) -> Boolean.compare(!x.current(), !y.current()));
        MemorySegment page = MemorySegment.ofArray(new byte[(int) DiscoveryLog.pageSize(entries.size())]);
        DiscoveryLog h = new DiscoveryLog().wrap(page);
        h.genctr(manager.discoveryGeneration()).numrec(entries.size()).recfmt(0);
        DiscoveryLog.Entry e = new DiscoveryLog.Entry();
        for (int i = 0; i < entries.size(); i++) {
            DiscoveryEntry d = entries.get(i);
            h.entry(e, i);
            e.trtype(d.address().trtypeCode()).adrfam(d.address().adrfamCode())
                    .subtype(d.current() ? DiscoveryLog.SUBTYPE_CURRENT_DISCOVERY : DiscoveryLog.SUBTYPE_NVM)
                    .portid(0).cntlid(0xFFFF)
                    .asqsz((int) opts.maxAqDepth())
                    .eflags(d.current() ? DiscoveryLog.EFLAGS_DUPLICATE_RETURNED_INFO
                            | DiscoveryLog.EFLAGS_EXPLICIT_PERSISTENT_CONNECTION : 0)
                    .trsvcid(d.address().trsvcid()).subnqn(d.nqn()).traddr(d.address().traddr());
            d.address().describeTransport(e);
        }
        return page;
    }

    private record DiscoveryEntry(String nqn, boolean current, ListenAddress address) {
    }

    // ---- features ----

    private void getFeatures(AdminCommand cmd) {
        Sqe.Features f = cmd.sqe().features();
        int fid = f.fid();
        int sel = f.sel();
        if (!featureSupported(fid)) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        if (sel == FeatureId.SEL_SUPPORTED_CAPABILITIES) {
            ok(cmd, 0x4); // changeable, not saveable, not namespace specific
            return;
        }
        boolean dflt = sel == FeatureId.SEL_DEFAULT || sel == FeatureId.SEL_SAVED;
        int v = switch (fid) {
            case FeatureId.ARBITRATION -> dflt ? 0 : arbitration;
            case FeatureId.POWER_MANAGEMENT -> dflt ? 0 : powerState;
            case FeatureId.VOLATILE_WRITE_CACHE -> !dflt && writeCacheEnabled ? 1 : 0;
            case FeatureId.NUMBER_OF_QUEUES -> {
                int n = dflt ? opts.maxIoQpairsPerCtrlr() : grantedIoQueues;
                yield FeatureId.numberOfQueues(n, n);
            }
            case FeatureId.ASYNC_EVENT_CONFIGURATION -> dflt ? 0 : asyncEventConfig;
            case FeatureId.KEEP_ALIVE_TIMER -> (int) (dflt ? 0 : katoMs);
            default -> 0;
        };
        ok(cmd, v);
    }

    private boolean featureSupported(int fid) {
        if (discovery) {
            return fid == FeatureId.KEEP_ALIVE_TIMER || fid == FeatureId.ASYNC_EVENT_CONFIGURATION;
        }
        return switch (fid) {
            case FeatureId.ARBITRATION, FeatureId.POWER_MANAGEMENT, FeatureId.VOLATILE_WRITE_CACHE,
                    FeatureId.NUMBER_OF_QUEUES, FeatureId.ASYNC_EVENT_CONFIGURATION,
                    FeatureId.KEEP_ALIVE_TIMER -> true;
            default -> false;
        };
    }

    private void setFeatures(AdminCommand cmd) {
        Sqe.Features f = cmd.sqe().features();
        int fid = f.fid();
        int v = f.value();
        if (!featureSupported(fid)) {
            fail(cmd, Status.INVALID_FIELD);
            return;
        }
        if (f.sv()) {
            fail(cmd, Status.FEATURE_ID_NOT_SAVEABLE);
            return;
        }
        switch (fid) {
            case FeatureId.ARBITRATION -> {
                arbitration = v;
                ok(cmd, 0);
            }
            case FeatureId.POWER_MANAGEMENT -> {
                if ((v & 0x1F) != 0) {
                    fail(cmd, Status.INVALID_FIELD); // one power state, #0
                    return;
                }
                powerState = v;
                ok(cmd, 0);
            }
            case FeatureId.VOLATILE_WRITE_CACHE -> {
                if (!vwcPresent(subsystem.namespaces())) {
                    fail(cmd, Status.INVALID_FIELD);
                    return;
                }
                writeCacheEnabled = (v & 1) != 0;
                ok(cmd, 0);
            }
            case FeatureId.NUMBER_OF_QUEUES -> {
                int nsqr = v & 0xFFFF;
                int ncqr = v >>> 16;
                if (nsqr == 0xFFFF || ncqr == 0xFFFF) {
                    fail(cmd, Status.INVALID_FIELD);
                    return;
                }
                if (queues.size() > 1) {
                    fail(cmd, Status.COMMAND_SEQUENCE_ERROR); // I/O queues already connected
                    return;
                }
                grantedIoQueues = Math.min(Math.min(nsqr, ncqr) + 1, opts.maxIoQpairsPerCtrlr());
                queuesSet = true;
                ok(cmd, FeatureId.numberOfQueues(grantedIoQueues, grantedIoQueues));
            }
            case FeatureId.ASYNC_EVENT_CONFIGURATION -> {
                int supported = discovery ? AEN_DISCOVERY_LOG_CHANGE : AEN_NAMESPACE_ATTRIBUTE | 0xFF;
                asyncEventConfig = v & supported;
                ok(cmd, 0);
            }
            case FeatureId.KEEP_ALIVE_TIMER -> {
                long ms = Integer.toUnsignedLong(v);
                katoMs = ms == 0 ? 0 : roundKato(ms);
                ok(cmd, 0);
            }
            default -> fail(cmd, Status.INVALID_FIELD);
        }
    }

    /** Whether the host set the number of queues since the last reset. */
    public boolean queuesSet() {
        return queuesSet;
    }

    // ---- helpers ----

    /** Copies bytes [offset, offset + length) of {@code src} into the command's buffer, zeros past its end. */
    private static void copyOut(AdminCommand cmd, MemorySegment src, long length, long offset) {
        MemorySegment dst = cmd.data();
        if (dst == null) {
            return;
        }
        long n = Math.min(Math.min(length, cmd.length()), dst.byteSize());
        long avail = Math.max(0, Math.min(n, src.byteSize() - offset));
        if (avail > 0) {
            MemorySegment.copy(src, offset, dst, 0, avail);
        }
        if (n > avail) {
            dst.asSlice(avail, n - avail).fill((byte) 0);
        }
    }

    private static void ok(AdminCommand cmd, int dw0) {
        cmd.complete(Status.field(Status.SUCCESS, false), dw0, 0);
    }

    private static void fail(AdminCommand cmd, int code) {
        cmd.complete(Status.field(code, true), 0, 0);
    }

    private static String firmwareRevision() {
        io.keel.core.app.Version.Fields f = io.keel.core.app.Version.current().fields();
        String v = f.major() + "." + f.minor() + "." + f.patch();
        return v.length() > 8 ? v.substring(0, 8) : v;
    }

    @Override
    public String toString() {
        return "Controller[" + cntlid + " " + subsystem.nqn() + " " + hostnqn + " " + state + "]";
    }
}
