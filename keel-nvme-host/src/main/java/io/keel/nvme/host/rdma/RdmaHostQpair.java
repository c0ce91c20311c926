package io.keel.nvme.host.rdma;

import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.QpairConfig;
import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.rdma.CmEvent;
import io.keel.rdma.CmId;
import io.keel.rdma.CompletionQueue;
import io.keel.rdma.ConnectionParameters;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.QueuePair;
import io.keel.rdma.QueuePairCapabilities;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RdmaException;
import io.keel.rdma.RecvWorkRequests;
import io.keel.rdma.SendWorkRequests;
import io.keel.rdma.VerbsContext;
import io.keel.rdma.WorkCompletions;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host queue pair over NVMe-oF RDMA (SPDK's {@code nvme_rdma_qpair}). Connecting: a cm id on the poll group's
 * CM event channel, address and route resolved, the device's {@link RdmaDomain} (opened off the reactor the first
 * time: the connection waits for its message), a reliable-connected queue pair on the device's shared completion
 * queue, every response buffer posted, then {@code rdma_connect} with the NVMe-oF private data (HRQSIZE = queue
 * size, HSQSIZE = queue size - 1, QID, CNTLID); ESTABLISHED (with the controller's CRQSIZE) hands over to the
 * Fabrics Connect. REJECTED (with its status), UNREACHABLE, address, route and connect errors, DISCONNECTED and
 * device removal each move the queue once, with the reason.
 *
 * <p>A command is one SEND of its capsule from registered per-qpair memory (the SQE, and a write's data up to the
 * controller's in-capsule size on I/O queues); its response arrives by RECV into one of the registered response
 * buffers, which is posted again. Other data is described by a keyed SGL data block naming registered memory the
 * controller reads or writes with RDMA. Data that is one run inside memory the device's {@link RdmaDomain}
 * registered (iobuf, buffers registered in {@code DmaMemory}) moves without a copy: the keyed SGL names it, or the
 * SEND gathers in-capsule data from it. Other data (scattered segments, unregistered memory) goes through this
 * qpair's own bounce range, sized from the queue depth and the largest transfer: write data is copied in before the
 * SEND, read data out when the response came. A command that finds no room there waits in the qpair's pending list
 * until a completion frees some (rule R6). A command ends when both its response and its SEND's completion arrived
 * (the capsule buffer is free again). SENDs and RECV reposts queued during a poll or a message turn are posted in
 * one call each.
 *
 * <p>Disconnecting (rule R5, S5): a DISCONNECTED already seen is remembered, and answered with
 * {@code rdma_disconnect} at once (librdmacm's peer otherwise waits for its own); a teardown, after the
 * controller's death or asked for, frees the connection at once and never waits for a DISCONNECTED event.
 * Completions of a freed connection still in the shared completion queue are recognised and dropped.
 */
public final class RdmaHostQpair extends HostQpair {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaHostQpair.class);
    static final int MAX_SLOTS = 1 << 16;
    /** The largest transfer of one command: I/O is split to it (the bounce range holds at least one). */
    static final long MAX_TRANSFER = 1 << 20;
    /** Most bounce memory per qpair beyond one largest transfer. */
    static final long BOUNCE_BUDGET = 8 << 20;
    /** In-capsule data per command at most (a controller may offer more; the rest goes keyed). */
    static final int MAX_IN_CAPSULE = 16 << 10;
    /** RDMA READs of our memory the controller may have outstanding (its writes' data). */
    static final int RESPONDER_RESOURCES = 16;
    private static final int RESOLVE_TIMEOUT_MS = 2_000;
    private static final long RECV_BIT = 1L << 31;
    /** The IB CM's reject reason when no one listens on the port. */
    private static final int IB_CM_REJ_INVALID_SERVICE_ID = 8;

    private enum Link {
        IDLE, RESOLVING_ADDRESS, RESOLVING_ROUTE, AWAITING_DOMAIN, AWAITING_MEMORY, CONNECTING, ESTABLISHED
    }

    private final RdmaPollGroup rdma;
    private final InetSocketAddress address;
    private final int slot;
    private int generation;
    /** Queued for a post at the end of the poll group's turn (the group's flag). */
    boolean dirty;

    private Link link = Link.IDLE;
    private CmId id;
    private QueuePair qp;
    private RdmaDevice device;
    private CompletionQueue cq;
    private int cqEntries;
    private boolean disconnectedSeen;
    private int crqsize;

    /** The device's domain this qpair holds ({@link RdmaDomains}); null before its first connect and after close. */
    private RdmaDomain domain;
    /** This qpair's own registered memory, in {@link #domain}: made at the first connect (the sizes are known then). */
    private QpairMemory memory;
    private MemorySegment capsules;
    private MemorySegment responses;
    private MemorySegment bounce;
    private MemoryRegion localRegion;
    private MemoryRegion bounceRegion;
    private int capsuleBytes;
    private PageRuns bounceRuns;
    private SendWorkRequests sends;
    private RecvWorkRequests recvs;
    private final ConnectionParameters parameters = new ConnectionParameters();
    private final RdmaCmPrivateData privateData = new RdmaCmPrivateData();
    private final Cqe cqe = new Cqe();

    // per command ID
    private final boolean[] sendPending;
    private final boolean[] responded;
    private final int[] status;
    private final long[] result;
    private final long[] bounceOffset;
    // work requests waiting for the end of the turn: chains through the slots
    private int sendHead = -1;
    private int sendTail;
    private int sendQueued;
    private int recvHead = -1;
    private int recvTail;
    private int recvQueued;

    RdmaHostQpair(HostPollGroup group, InetSocketAddress address, QpairConfig config, Listener listener) {
        super(group, config, listener);
        this.rdma = RdmaPollGroup.of(group);
        this.address = address;
        this.slot = rdma.add(this);
        int n = config.requests();
        sendPending = new boolean[n];
        responded = new boolean[n];
        status = new int[n];
        result = new long[n];
        bounceOffset = new long[n];
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The controller's receive queue size from its accept (CRQSIZE), 0 before. */
    public int controllerQueueSize() {
        return crqsize;
    }

    // ---- work request ids: slot in the poll group, connection generation, kind, index ----

    static int slotOf(long wrId) {
        return (int) (wrId >>> 48);
    }

    boolean owns(long wrId) {
        return (int) ((wrId >>> 32) & 0xFFFF) == generation && link != Link.IDLE;
    }

    private long wrId(boolean recv, int index) {
        return (long) slot << 48 | (long) generation << 32 | (recv ? RECV_BIT : 0) | index;
    }

    // ---- transport ----

    @Override
    protected void startConnect() {
        closeConnection();
        disconnectedSeen = false;
        crqsize = 0;
        try {
            id = CmId.create(rdma.cmChannel());
            rdma.register(id.address(), this);
            link = Link.RESOLVING_ADDRESS;
            int rc = id.resolveAddress(null, address, resolveTimeoutMs());
            if (rc < 0) {
                transportFailed("rdma_resolve_addr to " + describe() + " failed: errno " + -rc);
            }
        } catch (RdmaException e) {
            transportFailed("RDMA connect to " + describe() + " failed: " + e.getMessage());
        }
    }

    /**
     * Disconnects at once: {@code rdma_disconnect} (unless the controller disconnected first, which was answered
     * then) tells the controller, and the queue pair and cm id are freed without waiting for our own DISCONNECTED:
     * nothing here waits for an event that may not come, and a thread that is exiting can disconnect too.
     */
    @Override
    protected void startDisconnect() {
        if (link == Link.ESTABLISHED && !disconnectedSeen) {
            int rc = id.disconnect();
            if (rc < 0) {
                LOG.debug("nvme rdma: rdma_disconnect of qpair {} ({}): errno {}", qid(), describe(), -rc);
            }
        }
        closeConnection();
        transportClosed();
    }

    @Override
    protected void releaseTransport() {
        closeConnection();
        if (sends != null) {
            sends.close();
            recvs.close();
        }
        dropMemory();
        if (domain != null) {
            RdmaDomains.release(domain.context()); // after the memory's deregistration is queued: it closes last
            domain = null;
        }
        parameters.close();
        rdma.remove(slot);
    }

    /**
     * Frames {@code r}: data in registered memory (one run inside one range of the device's domain) is sent from
     * there or named in the keyed SGL as it is; other data is copied into the capsule or through the bounce range.
     */
    @Override
    protected boolean send(HostRequest r) {
        int cid = r.cid();
        Sqe s = r.sqe();
        long len = r.length();
        long base = (long) cid * capsuleBytes;
        long address = len > 0 ? r.contiguousAddress() : -1;
        RegistrationMap.Entry registered = address < 0 ? null : domain.map().find(address, len);
        int sendLength = Sqe.SIZE;
        int gather = 1;
        if (inCapsule(r, len)) {
            RdmaSgl.inCapsule(s, (int) len);
            if (registered != null) {
                sends.sge(cid, 1, address, (int) len, registered.lkey());
                gather = 2;
                device.zeroCopyRequests++;
            } else {
                r.copyOut(0, capsules, base + Sqe.SIZE, len);
                sendLength += (int) len;
                device.copiedInCapsuleRequests++;
            }
        } else if (registered != null) {
            RdmaSgl.keyed(s, address, (int) len, registered.rkey());
            device.zeroCopyRequests++;
        } else if (len > 0) {
            long off = bounceRuns.allocate(len);
            if (off < 0) {
                device.queuedRequests++;
                return false; // waits in the pending list until a completion frees bounce memory
            }
            bounceOffset[cid] = off;
            if (r.toController()) {
                r.copyOut(0, bounce, off, len);
            }
            RdmaSgl.keyed(s, bounce.address() + off, (int) len, bounceRegion.rkey());
            device.bouncedRequests++;
        } else {
            RdmaSgl.none(s);
        }
        MemorySegment.copy(r.sqeBytes(), 0, capsules, base, Sqe.SIZE);
        sends.sge(cid, 0, capsules.address() + base, sendLength, localRegion.lkey());
        sends.sgeCount(cid, gather);
        sends.operation(cid, RdmaAbi.IBV_WR_SEND, RdmaAbi.IBV_SEND_SIGNALED);
        sends.id(cid, wrId(false, cid));
        sendPending[cid] = true;
        responded[cid] = false;
        if (sendHead < 0) {
            sendHead = cid;
        } else {
            sends.link(sendTail, cid);
        }
        sends.end(cid);
        sendTail = cid;
        sendQueued++;
        rdma.dirty(this);
        return true;
    }

    /** Write data of an I/O command that fits the controller's in-capsule size (never Fabrics or admin data). */
    private boolean inCapsule(HostRequest r, long len) {
        return qid() != 0 && r.toController() && len > 0 && len <= capsuleBytes - Sqe.SIZE
                && r.sqe().opcode() != Opcode.FABRICS;
    }

    // ---- CM events (from the poll group, on the owner thread) ----

    void onCmEvent(CmEvent e) {
        if (e.type() == null) {
            return;
        }
        switch (e.type()) {
            case ADDR_RESOLVED -> {
                if (link == Link.RESOLVING_ADDRESS) {
                    link = Link.RESOLVING_ROUTE;
                    int rc = id.resolveRoute(resolveTimeoutMs());
                    if (rc < 0) {
                        transportFailed("rdma_resolve_route to " + describe() + " failed: errno " + -rc);
                    }
                }
            }
            case ROUTE_RESOLVED -> {
                if (link == Link.RESOLVING_ROUTE) {
                    awaitDomain();
                }
            }
            case ESTABLISHED -> {
                if (link == Link.CONNECTING) {
                    if (e.privateDataLength() >= 4) {
                        crqsize = privateData.wrap(e.privateData()).crqsize();
                    }
                    link = Link.ESTABLISHED;
                    transportReady();
                }
            }
            case REJECTED -> transportFailed("the controller at " + describe() + " rejected the connection: "
                    + rejectReason(e));
            case ADDR_ERROR, ROUTE_ERROR, UNREACHABLE, CONNECT_ERROR -> transportFailed(e.type() + " connecting to "
                    + describe() + " (status " + e.status() + ")");
            case DISCONNECTED -> onDisconnected();
            case DEVICE_REMOVAL -> transportFailed("the RDMA device of " + describe() + " was removed");
            default -> {
                // TIMEWAIT_EXIT, ADDR_CHANGE and the rest ask nothing of the host
            }
        }
    }

    /** The controller disconnected (or its side died): answered at once, remembered, and the queue goes. */
    private void onDisconnected() {
        if (disconnectedSeen) {
            return;
        }
        disconnectedSeen = true;
        if (link == Link.ESTABLISHED) {
            id.disconnect(); // answer it: otherwise the peer sees its own only when its request times out
        }
        transportFailed("the controller at " + describe() + " disconnected");
    }

    /** The NVMe-oF status of a controller's reject, or the CM's reason when there is none (no listener, say). */
    private String rejectReason(CmEvent e) {
        if (e.privateDataLength() >= RdmaCmPrivateData.REJECT_SIZE) {
            RdmaCmPrivateData p = privateData.wrap(e.privateData());
            if (p.recfmt() == 0 && p.sts() >= RdmaCmPrivateData.STS_INVALID_PRIVATE_DATA_LENGTH
                    && p.sts() <= RdmaCmPrivateData.STS_INVALID_ORD) {
                return RdmaCmPrivateData.describeStatus(p.sts());
            }
        }
        return e.status() == IB_CM_REJ_INVALID_SERVICE_ID ? "nothing listens there (CM status 8, invalid service ID)"
                : "CM status " + e.status();
    }

    /**
     * Route resolved: the device's {@link RdmaDomain} is opened on the registration worker the first time (its
     * protection domain; the process's DMA memory is registered in it afterwards), so this connection waits for a
     * message; the connect timeout bounds the wait, and an answer for a connection torn down meanwhile (or a closed
     * qpair) gives its hold back at once.
     */
    private void awaitDomain() {
        link = Link.AWAITING_DOMAIN;
        int connection = generation;
        VerbsContext context = id.verbsContext();
        RdmaDomains.acquire(context, thread, (d, error) -> {
            boolean current = !closed() && connection == generation && link == Link.AWAITING_DOMAIN;
            if (!current || d == null) {
                RdmaDomains.release(context);
                if (current) {
                    transportFailed("opening RDMA device " + context.deviceName() + " for " + describe()
                            + " failed: " + error.getMessage());
                }
                return;
            }
            keepHold(d);
            prepareMemory(context);
        });
    }

    /**
     * Keeps the hold on the domain {@code d} just taken for this connect, giving back the one held before (and this
     * qpair's memory when it was registered in another domain: no connection uses it now).
     */
    private void keepHold(RdmaDomain d) {
        if (domain != null) {
            if (domain != d) {
                dropMemory(); // queued before its domain may close
            }
            RdmaDomains.release(domain.context());
        }
        domain = d;
    }

    /**
     * This qpair's memory, made on the registration worker at the first connect (a message brings it back; the
     * connect timeout bounds the wait), under a hold of the domain of its own so the domain cannot close under it.
     */
    private void prepareMemory(VerbsContext context) {
        if (memory != null) {
            connectQueue(context);
            return;
        }
        link = Link.AWAITING_MEMORY;
        int connection = generation;
        capsuleBytes = Sqe.SIZE + (qid() == 0 ? 0 : Math.min(inCapsuleBytes(), MAX_IN_CAPSULE));
        long localBytes = (long) capsuleBytes * config().requests() + (long) Cqe.SIZE * config().queueSize();
        long bounceBytes = bounceBytes();
        RdmaDomain d = domain;
        RdmaDomains.retain(context);
        RdmaDomains.execute(localBytes + bounceBytes, () -> {
            QpairMemory m;
            try {
                m = QpairMemory.prepare(d, localBytes, bounceBytes);
            } catch (RuntimeException | OutOfMemoryError e) {
                if (!thread.send(() -> memoryFailed(context, connection, e))) {
                    RdmaDomains.release(context);
                }
                return;
            }
            if (!thread.send(() -> memoryReady(context, connection, m))) {
                m.release();
                RdmaDomains.release(context);
            }
        });
    }

    /** The memory is registered: kept (for this connect or the next) unless the qpair moved on or closed meanwhile. */
    private void memoryReady(VerbsContext context, int connection, QpairMemory m) {
        boolean keep = !closed() && memory == null && m.domain() == domain;
        if (keep) {
            adopt(m);
        } else {
            m.release();
        }
        RdmaDomains.release(context); // the preparation's hold, after the memory's deregistration was queued
        if (keep && connection == generation && link == Link.AWAITING_MEMORY) {
            connectQueue(context);
        }
    }

    private void memoryFailed(VerbsContext context, int connection, Throwable error) {
        RdmaDomains.release(context);
        if (connection == generation && link == Link.AWAITING_MEMORY) {
            transportFailed("registering the memory of qpair " + qid() + " on " + context.deviceName() + " failed: "
                    + error.getMessage());
        }
    }

    private void adopt(QpairMemory m) {
        memory = m;
        long capsuleTotal = (long) capsuleBytes * config().requests();
        capsules = m.local.asSlice(0, capsuleTotal);
        responses = m.local.asSlice(capsuleTotal);
        bounce = m.bounce;
        localRegion = m.localRegion;
        bounceRegion = m.bounceRegion;
        bounceRuns = new PageRuns(bounce.byteSize());
        if (sends == null) {
            sends = new SendWorkRequests(config().requests(), 2);
            recvs = new RecvWorkRequests(config().queueSize(), 1);
        }
    }

    /** Gives this qpair's memory back to the worker (no queue pair uses it: the connection is closed). */
    private void dropMemory() {
        if (memory != null) {
            memory.release();
            memory = null;
            capsules = null;
            responses = null;
            bounce = null;
            localRegion = null;
            bounceRegion = null;
            bounceRuns = null;
        }
    }

    /** The device's queues, the response buffers posted, then rdma_connect. */
    private void connectQueue(VerbsContext context) {
        try {
            device = rdma.device(context);
            int depth = config().depth();
            cqEntries = depth + config().queueSize();
            cq = device.reserve(cqEntries);
            // two gather entries: the capsule's SQE, and in-capsule data sent from the caller's registered memory
            qp = id.createQueuePair(domain.pd(), cq, cq,
                    new QueuePairCapabilities(depth, config().queueSize(), 2, 1, 0));
        } catch (RdmaException e) {
            transportFailed("setting up the RDMA queue pair to " + describe() + " failed: " + e.getMessage());
            return;
        }
        for (int i = 0; i < config().queueSize(); i++) {
            queueRecv(i);
        }
        postQueued();
        if (state() != State.CONNECTING) {
            return;
        }
        privateData.wrap(parameters.privateData()).clear();
        privateData.recfmt(0).qid(qid()).hrqsize(config().queueSize()).hsqsize(config().queueSize() - 1)
                .cntlid(config().cntlid());
        parameters.privateDataLength(RdmaCmPrivateData.REQUEST_SIZE).responderResources(RESPONDER_RESOURCES)
                .initiatorDepth(0);
        link = Link.CONNECTING;
        int rc = id.connect(parameters);
        if (rc < 0) {
            transportFailed("rdma_connect to " + describe() + " failed: errno " + -rc);
        }
    }

    /**
     * The bounce range: room for every command on the wire at up to 128 KiB each, within the budget, but never
     * less than one largest transfer (the admin queue: one largest transfer).
     */
    private long bounceBytes() {
        long mdts = maxTransferBytes();
        long largest = mdts == 0 ? MAX_TRANSFER : Math.min(mdts, MAX_TRANSFER);
        if (qid() == 0) {
            return largest;
        }
        long wanted = Math.min((long) config().depth() * Math.min(largest, 128 << 10), BOUNCE_BUDGET);
        long bytes = Math.max(largest, wanted);
        return (bytes + PageRuns.PAGE - 1) / PageRuns.PAGE * PageRuns.PAGE;
    }

    // ---- completions (from the poll group, on the owner thread) ----

    void onCompletion(long wrId, WorkCompletions wcs, int i) {
        int st = wcs.status(i);
        int index = (int) (wrId & (RECV_BIT - 1));
        if (st != RdmaAbi.IBV_WC_SUCCESS) {
            if (link == Link.ESTABLISHED) {
                transportFailed("work request failed on " + describe() + ": " + WorkCompletions.statusText(st)
                        + " (vendor error 0x" + Integer.toHexString(wcs.vendorError(i)) + ")");
            }
            return;
        }
        if ((wrId & RECV_BIT) != 0) {
            onResponse(index);
        } else {
            sendPending[index] = false;
            if (responded[index]) {
                finish(index);
            }
        }
    }

    private void onResponse(int buffer) {
        cqe.wrap(responses, (long) buffer * Cqe.SIZE);
        int cid = cqe.cid();
        int st = cqe.statusField() & 0xFFFE;
        long res = cqe.dw01();
        queueRecv(buffer); // the response is read: the buffer can take the next one
        rdma.dirty(this);
        HostRequest r = outstanding(cid);
        if (r == null || responded[cid]) {
            transportFailed("protocol error from " + describe() + ": response for command " + cid
                    + " that is not outstanding");
            return;
        }
        responded[cid] = true;
        status[cid] = st;
        result[cid] = res;
        if (!sendPending[cid]) {
            finish(cid);
        }
    }

    /** Response and SEND completion both in: read data out of the bounce range, free it, end the command. */
    private void finish(int cid) {
        HostRequest r = outstanding(cid);
        responded[cid] = false;
        long off = bounceOffset[cid];
        if (off >= 0) {
            bounceOffset[cid] = -1;
            if (!r.toController()) {
                r.copyIn(bounce, off, 0, r.length());
            }
            bounceRuns.free(off, r.length());
        }
        complete(cid, status[cid], result[cid]);
    }

    private void queueRecv(int buffer) {
        recvs.single(buffer, localRegion, responses.address() + (long) buffer * Cqe.SIZE, Cqe.SIZE);
        recvs.id(buffer, wrId(true, buffer));
        if (recvHead < 0) {
            recvHead = buffer;
        } else {
            recvs.link(recvTail, buffer);
        }
        recvs.end(buffer);
        recvTail = buffer;
        recvQueued++;
    }

    /** Posts what was queued: the RECVs again, then the SENDs, one call each. */
    void postQueued() {
        if (qp == null) {
            sendHead = -1;
            recvHead = -1;
            return;
        }
        if (recvHead >= 0) {
            int first = recvHead;
            int n = recvQueued;
            recvHead = -1;
            recvQueued = 0;
            int rc = qp.postReceive(recvs, first);
            device.totalRecvWrs += n;
            device.recvDoorbellUpdates++;
            if (rc < 0) {
                transportFailed("ibv_post_recv on " + describe() + " failed: errno " + -rc);
                return;
            }
        }
        if (sendHead >= 0) {
            int first = sendHead;
            int n = sendQueued;
            sendHead = -1;
            sendQueued = 0;
            int rc = qp.postSend(sends, first);
            device.totalSendWrs += n;
            device.sendDoorbellUpdates++;
            if (rc < 0) {
                transportFailed("ibv_post_send on " + describe() + " failed: errno " + -rc);
            }
        }
    }

    // ---- teardown ----

    /** Frees the connection (queue pair, cm id, completion queue share); the memory stays for a reconnect. */
    private void closeConnection() {
        link = Link.IDLE;
        generation = (generation + 1) & 0xFFFF; // completions still in the shared queue are dropped
        sendHead = -1;
        sendQueued = 0;
        recvHead = -1;
        recvQueued = 0;
        java.util.Arrays.fill(sendPending, false);
        java.util.Arrays.fill(responded, false);
        java.util.Arrays.fill(bounceOffset, -1);
        if (bounceRuns != null) {
            bounceRuns.reset();
        }
        if (id != null) {
            rdma.unregister(id.address());
            try {
                id.close(); // destroys the queue pair too
            } catch (RdmaException e) {
                LOG.warn("nvme rdma: freeing the cm id of qpair {} ({}) failed: {}", qid(), describe(), e.getMessage());
            }
            id = null;
            qp = null;
        }
        if (cq != null) {
            device.unreserve(cq, cqEntries);
            cq = null;
        }
    }

    private int resolveTimeoutMs() {
        return (int) Math.min(RESOLVE_TIMEOUT_MS, config().connectTimeoutMs());
    }

    private String describe() {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
