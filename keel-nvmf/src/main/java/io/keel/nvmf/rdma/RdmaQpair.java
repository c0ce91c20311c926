package io.keel.nvmf.rdma;

import io.keel.core.thread.KeelThread;
import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.transport.ForwardedCommand;
import io.keel.nvmf.transport.QpairCommands;
import io.keel.rdma.CmEventChannel;
import io.keel.rdma.CmId;
import io.keel.rdma.ConnectionParameters;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.QueuePair;
import io.keel.rdma.QueuePairCapabilities;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RecvWorkRequests;
import io.keel.rdma.SendWorkRequests;
import io.keel.rdma.WorkCompletions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe-oF RDMA queue pair on its poll group's thread (rule R1): its cm id (its events arrive on the group's
 * channel), its reliable-connected queue pair completing into the group's queue for the device, and a table made
 * and registered once at accept — a receive buffer per entry (SQE and in-capsule data, read in place), a response
 * per entry — with an {@link RdmaRequest} per entry. Where each command goes is the transport-neutral
 * {@link QpairCommands}' decision (Connect and admin commands to the application thread, I/O commands to the
 * queue's executor), as for TCP.
 *
 * <p>A command's life: its capsule's RECV completes; a keyed SGL takes a data buffer and a data work request from
 * the group (or waits for them in the group's queue, rule R6); a write RDMA READs the host's data (at most
 * {@link #READ_DEPTH} at once, the rest waiting here); it executes; the response is SENT — after an RDMA WRITE of a
 * read's data, in the same chain — and the receive buffer is posted again; the request is free when the SEND
 * completes. Work requests queued during a poll go out in one post per qpair at its end (unless
 * {@code no_wr_batching}).
 *
 * <p>Life (rule R5): {@code OPEN} (the queue's states are {@link QpairCommands}') → {@code CLOSING} (disconnected:
 * waits until every posted work request has completed, flushed, and every command came back, at most
 * {@link #CLOSE_BOUND_NANOS}) → {@code DESTROYED} (queue pair and cm id destroyed here, table freed). A DISCONNECTED
 * event is remembered: a qpair that saw one answers it once and never waits for another (scenario S5).
 * {@link #close} is idempotent.
 */
final class RdmaQpair implements QpairCommands.Queue<RdmaRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaQpair.class);
    /** RDMA READs in flight per qpair (the initiator depth the accept offers; Soft-RoCE and mlx5 allow far more). */
    static final int READ_DEPTH = 16;
    /** How long a closing qpair waits for its work requests to flush and its commands to come back. */
    static final long CLOSE_BOUND_NANOS = 5_000_000_000L;

    // work request ids: slot (16 bits) | generation (16) | kind (4) | entry (28)
    static final int KIND_RECV = 0;
    static final int KIND_SEND = 1;
    static final int KIND_READ = 2;

    /** The connection's life; the queue's own states are {@link QpairCommands}'s. */
    enum Life { OPEN, CLOSING, DESTROYED }

    private final RdmaPollGroup group;
    private final RdmaPoller poller;
    private final CmId id;
    private final ListenAddress listenAddress;
    private final ListenAddress peerAddress;
    private final int depth;
    private final int capsuleSize;
    private final int slot;
    private final int generation;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment table;
    private final MemoryRegion tableRegion;
    private final RecvWorkRequests recvs;
    private final SendWorkRequests sends;
    private final RdmaRequest[] requests;
    private final ArrayDeque<RdmaRequest> readWaiters;
    private QueuePair qp;

    private final QpairCommands<RdmaRequest> commands;
    private Life life = Life.OPEN;
    private boolean established;
    private boolean disconnectSeen;
    private boolean disconnectSent;
    private long closingSince;
    private int sqhd;
    private int readsInFlight;
    /** Posted receives, and posted signaled sends and reads, not yet completed (flushed ones included). */
    private int recvsPosted;
    private int sendsPosted;
    /** Requests not FREE. */
    private int busy;
    // the chains queued for the next post (-1: empty)
    private int sendHead = -1;
    private int sendTail = -1;
    private int sendCount;
    private int recvHead = -1;
    private int recvTail = -1;
    private int recvCount;
    private boolean dirty;


    /**
     * Makes the table, registers it, creates the queue pair and posts every receive (group's thread); throws
     * {@link io.keel.rdma.RdmaException} if the device refuses, having freed what it made.
     */
    RdmaQpair(RdmaPollGroup group, RdmaPoller poller, CmId id, int slot, int generation, int depth,
            int inCapsuleDataSize, ListenAddress listenAddress, ListenAddress peerAddress) {
        this.group = group;
        this.poller = poller;
        this.id = id;
        this.slot = slot;
        this.generation = generation;
        this.depth = depth;
        this.capsuleSize = Sqe.SIZE + inCapsuleDataSize;
        this.listenAddress = listenAddress;
        this.peerAddress = peerAddress;
        this.commands = new QpairCommands<>(this, group.transport().registry());
        this.table = arena.allocate((long) depth * (capsuleSize + Cqe.SIZE), 64);
        MemoryRegion region = null;
        RecvWorkRequests r = null;
        SendWorkRequests s = null;
        try {
            region = poller.device.pd().register(table, RdmaAbi.IBV_ACCESS_LOCAL_WRITE);
            r = new RecvWorkRequests(depth, 1);
            s = new SendWorkRequests(2 * depth, 1);
            qp = id.createQueuePair(poller.device.pd(), poller.cq, poller.cq,
                    new QueuePairCapabilities(2 * depth, depth, 1, 1, 0));
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            if (r != null) {
                r.close();
            }
            if (region != null) {
                region.close();
            }
            arena.close();
            throw e;
        }
        this.tableRegion = region;
        this.recvs = r;
        this.sends = s;
        this.requests = new RdmaRequest[depth];
        this.readWaiters = new ArrayDeque<>(depth);
        long responses = (long) depth * capsuleSize;
        for (int i = 0; i < depth; i++) {
            MemorySegment capsule = table.asSlice((long) i * capsuleSize, capsuleSize);
            MemorySegment response = table.asSlice(responses + (long) i * Cqe.SIZE,
                    Cqe.SIZE);
            requests[i] = new RdmaRequest(this, i, capsule, response);
            recvs.single(i, tableRegion, capsule.address(), capsuleSize);
            recvs.id(i, workRequestId(KIND_RECV, i));
            sends.id(2 * i, workRequestId(KIND_READ, i));
            sends.id(2 * i + 1, workRequestId(KIND_SEND, i));
            queueRecv(i);
        }
    }

    private long workRequestId(int kind, int entry) {
        return (long) slot << 48 | (long) generation << 32 | (long) kind << 28 | entry;
    }

    /** Posts the receives, moves the cm id's events to the group's channel and accepts; false if any failed. */
    boolean accept(ConnectionParameters params, CmEventChannel channel) {
        flush();
        if (life != Life.OPEN) {
            return false;
        }
        int rc = id.migrate(channel);
        if (rc != 0) {
            LOG.warn("nvmf: RDMA qpair from {}: rdma_migrate_id failed ({})", peer(), rc);
            return false;
        }
        rc = id.accept(params);
        if (rc != 0) {
            LOG.warn("nvmf: RDMA qpair from {}: rdma_accept failed ({})", peer(), rc);
            return false;
        }
        return true;
    }

    // ---- facts ----

    @Override
    public KeelThread thread() {
        return group.thread();
    }

    @Override
    public ListenAddress listenAddress() {
        return listenAddress;
    }

    @Override
    public ListenAddress peerAddress() {
        return peerAddress;
    }

    @Override
    public TransportOptions transportOptions() {
        return group.transport().options();
    }

    @Override
    public Controller adminController() {
        return commands.binding().controller();
    }

    CmId cmId() {
        return id;
    }

    QpairCommands.State state() {
        return commands.state();
    }

    int qid() {
        return commands.qid();
    }

    boolean closing() {
        return life == Life.CLOSING;
    }

    int slot() {
        return slot;
    }

    int generation() {
        return generation;
    }

    int depth() {
        return depth;
    }

    RdmaPoller poller() {
        return poller;
    }

    long closingSince() {
        return closingSince;
    }

    int waitingForBdevIo() {
        return commands.waitingForBdevIo();
    }

    long completedIo() {
        return commands.completedIo();
    }

    private String peer() {
        return peerAddress.traddr() + ":" + peerAddress.trsvcid();
    }

    // ---- completions (the group's poll) ----

    /** A work completion of this qpair: {@code kind} and {@code entry} from its id, {@code status} its status. */
    void completion(int kind, int entry, int status, int byteLength) {
        switch (kind) {
            case KIND_RECV -> {
                recvsPosted--;
                if (status == RdmaAbi.IBV_WC_SUCCESS) {
                    received(requests[entry], byteLength);
                } else {
                    failed("RECV", status);
                }
            }
            case KIND_SEND -> {
                sendsPosted--;
                if (status != RdmaAbi.IBV_WC_SUCCESS) {
                    failed("SEND", status);
                }
                RdmaRequest r = requests[entry];
                if (r.state == RdmaRequest.State.COMPLETING) {
                    responded(r);
                }
            }
            case KIND_READ -> {
                sendsPosted--;
                readsInFlight--;
                if (status != RdmaAbi.IBV_WC_SUCCESS) {
                    failed("RDMA READ", status);
                }
                RdmaRequest r = requests[entry];
                if (r.state == RdmaRequest.State.READING) {
                    if (life != Life.OPEN) {
                        release(r);
                    } else {
                        r.state = RdmaRequest.State.EXECUTING;
                        dispatch(r);
                    }
                }
                startWaitingReads();
            }
            default -> throw new IllegalStateException("work request kind " + kind);
        }
        if (life == Life.CLOSING) {
            destroyIfIdle();
        }
    }

    private void failed(String what, int status) {
        if (life == Life.OPEN) {
            close(what + " completed with " + WorkCompletions.statusText(status));
        }
    }

    private void received(RdmaRequest r, int bytes) {
        if (life != Life.OPEN) {
            return; // a capsule that arrived as the queue closed: dropped with it
        }
        poller.stats.requests++;
        if (r.state != RdmaRequest.State.FREE) {
            // the host got this entry's response before its SEND completed here: start it when it does
            r.capsuleWaiting = true;
            r.capsuleBytes = bytes;
            poller.stats.pendingFreeRequest++;
            return;
        }
        start(r, bytes);
    }

    private void start(RdmaRequest r, int bytes) {
        long now = group.clock().nanoTime();
        r.receivedNanos = now;
        busy++;
        sqhd = sqhd + 1 >= depth ? 0 : sqhd + 1;
        commands.touch(now);
        r.state = RdmaRequest.State.EXECUTING;
        int status = bytes < Sqe.SIZE ? Status.field(Status.INVALID_FIELD, true)
                : r.sgl.decode(r.sqe(), bytes - Sqe.SIZE, capsuleSize - Sqe.SIZE, group.maxTransfer());
        if (status != 0) {
            completed(r, status, 0, 0);
            return;
        }
        switch (r.sgl.kind()) {
            case NONE -> {
                r.data = null;
                dispatch(r);
            }
            case IN_CAPSULE -> {
                r.data = r.inCapsuleData();
                dispatch(r);
            }
            case KEYED -> {
                r.state = RdmaRequest.State.NEED_DATA;
                group.needData(r);
            }
            default -> throw new IllegalStateException(r.sgl.kind().name());
        }
    }

    /** The group gave {@code r} its data buffer and data work request: read the host's data, or execute. */
    void dataReady(RdmaRequest r) {
        if (r.sgl.hostToController()) {
            r.state = RdmaRequest.State.READING;
            if (readsInFlight >= READ_DEPTH) {
                readWaiters.addLast(r);
                poller.stats.pendingRdmaRead++;
            } else {
                postRead(r);
            }
        } else {
            r.state = RdmaRequest.State.EXECUTING;
            dispatch(r);
        }
    }

    private void startWaitingReads() {
        RdmaRequest r;
        while (readsInFlight < READ_DEPTH && life == Life.OPEN && (r = readWaiters.pollFirst()) != null) {
            postRead(r);
        }
    }

    private void postRead(RdmaRequest r) {
        int w = 2 * r.index;
        sends.operation(w, RdmaAbi.IBV_WR_RDMA_READ, RdmaAbi.IBV_SEND_SIGNALED);
        sends.sge(w, 0, r.buffer.address(), (int) r.sgl.length(), poller.device.iobufKey(r.buffer.address()));
        sends.sgeCount(w, 1);
        sends.remote(w, r.sgl.remoteAddress(), r.sgl.key());
        sends.end(w);
        readsInFlight++;
        sendsPosted++;
        queueSend(w, w, 1);
    }

    // ---- commands ----

    private void dispatch(RdmaRequest r) {
        commands.command(r);
    }

    @Override
    public ForwardedCommand<RdmaRequest> forwarded(RdmaRequest r) {
        return r.forwarded;
    }

    /** The table was made at accept for the queue's size: a Connect needs nothing more. */
    @Override
    public boolean reserve(RdmaRequest r) {
        return true;
    }

    @Override
    public void forwardedDone(ForwardedCommand<RdmaRequest> f, RdmaRequest r, int status, int dw0, int dw1) {
        commands.answered(f);
        if (r.state == RdmaRequest.State.EXECUTING) {
            r.complete(status, dw0, dw1);
        }
    }

    @Override
    public int bound(int qid) {
        if (qid == 0) {
            group.adminQpairs++;
        } else {
            group.ioQpairs++;
        }
        return depth;
    }

    @Override
    public void namespacesChanged(Namespace[] table, Runnable drained) {
        commands.namespacesChanged(table, drained);
    }

    /**
     * A command is done: its response is SENT — after the RDMA WRITE of a successful read's data, in one chain —
     * and its receive buffer posted again. On a closing qpair it is only let go.
     */
    void completed(RdmaRequest r, int statusField, int dw0, int dw1) {
        if (life != Life.OPEN) {
            release(r);
            destroyIfIdle();
            freeTableIfDone();
            return;
        }
        int i = r.index;
        r.cqe.dw0(dw0).dw1(dw1).sqhd(sqhd).sqid(Math.max(commands.qid(), 0)).cid(r.sqe().cid()).statusField(statusField & ~1);
        int send = 2 * i + 1;
        boolean invalidate = r.sgl.invalidate();
        sends.operation(send, invalidate ? RdmaAbi.IBV_WR_SEND_WITH_INV : RdmaAbi.IBV_WR_SEND,
                RdmaAbi.IBV_SEND_SIGNALED);
        if (invalidate) {
            sends.immediate(send, r.sgl.key()); // invalidate_rkey shares imm_data's place
        }
        sends.single(send, tableRegion, r.responseAddress, Cqe.SIZE);
        sends.end(send);
        boolean writeData = Status.codeOf(statusField) == Status.SUCCESS && r.sgl.kind() == RdmaSgl.Kind.KEYED
                && !r.sgl.hostToController() && r.buffer != null;
        r.state = RdmaRequest.State.COMPLETING;
        sendsPosted++;
        if (writeData) {
            int w = 2 * i;
            sends.operation(w, RdmaAbi.IBV_WR_RDMA_WRITE, 0); // unsignaled: the SEND after it completes for both
            sends.sge(w, 0, r.buffer.address(), (int) r.sgl.length(), poller.device.iobufKey(r.buffer.address()));
            sends.sgeCount(w, 1);
            sends.remote(w, r.sgl.remoteAddress(), r.sgl.key());
            sends.link(w, send);
            queueSend(w, send, 2);
        } else {
            queueSend(send, send, 1);
        }
        queueRecv(i); // the capsule is consumed: its buffer takes the next one
    }

    /** The response's SEND completed: the request is free, and starts the capsule that waited for it. */
    private void responded(RdmaRequest r) {
        poller.stats.requestLatency += group.clock().nanoTime() - r.receivedNanos;
        release(r);
        if (r.capsuleWaiting && life == Life.OPEN) {
            r.capsuleWaiting = false;
            start(r, r.capsuleBytes);
        }
    }

    /** Gives back what {@code r} holds and frees it. */
    private void release(RdmaRequest r) {
        if (r.state == RdmaRequest.State.FREE) {
            return;
        }
        r.state = RdmaRequest.State.FREE;
        busy--;
        group.releaseData(r);
    }

    // ---- posting ----

    private void queueSend(int first, int last, int n) {
        if (sendHead < 0) {
            sendHead = first;
        } else {
            sends.link(sendTail, first);
        }
        sendTail = last;
        sendCount += n;
        queued();
    }

    private void queueRecv(int i) {
        recvs.end(i);
        if (recvHead < 0) {
            recvHead = i;
        } else {
            recvs.link(recvTail, i);
        }
        recvTail = i;
        recvCount++;
        recvsPosted++;
        queued();
    }

    private void queued() {
        if (group.batching()) {
            if (!dirty) {
                dirty = true;
                group.flushLater(this);
            }
        } else {
            flush();
        }
    }

    /** Posts the queued chains: one post for the sends, one for the receives. */
    void flush() {
        dirty = false;
        if (life == Life.DESTROYED) {
            return;
        }
        if (sendHead >= 0) {
            int first = sendHead;
            int n = sendCount;
            sendHead = -1;
            sendCount = 0;
            int rc = qp.postSend(sends, first);
            poller.stats.sendDoorbellUpdates++;
            poller.stats.totalSendWrs += n;
            if (rc != 0) {
                postFailed("ibv_post_send", rc);
            }
        }
        if (recvHead >= 0) {
            int first = recvHead;
            int n = recvCount;
            recvHead = -1;
            recvCount = 0;
            int rc = qp.postReceive(recvs, first);
            poller.stats.recvDoorbellUpdates++;
            poller.stats.totalRecvWrs += n;
            if (rc != 0) {
                postFailed("ibv_post_recv", rc);
            }
        }
    }

    /**
     * A post the provider refused: what it did not take will never complete, so the qpair cannot account for it and
     * closes; the bound of its close ends the wait.
     */
    private void postFailed(String call, int rc) {
        LOG.warn("nvmf: RDMA qpair {} from {}: {} failed ({})", qid(), peer(), call, rc);
        recvsPosted = 0;
        sendsPosted = 0;
        close(call + " failed");
    }

    // ---- connection events (the group's CM channel) ----

    void established() {
        established = true;
    }

    /** The host disconnected (or the connection died): remembered, answered once, the qpair closes. */
    void disconnected(String why) {
        disconnectSeen = true;
        if (!disconnectSent) {
            disconnectSent = true;
            id.disconnect(); // answers the peer's DREQ, or it waits for its own DISCONNECTED until a timeout
        }
        close(why);
    }

    // ---- the end ----

    /** Disconnects and closes: the qpair is destroyed once idle or at its bound. Idempotent; owner thread. */
    @Override
    public void close(String reason) {
        if (life != Life.OPEN) {
            return;
        }
        life = Life.CLOSING;
        closingSince = group.clock().nanoTime();
        LOG.debug("nvmf: RDMA qpair {} from {} closing: {}", qid(), peer(), reason);
        if (!disconnectSent && !disconnectSeen) {
            disconnectSent = true;
            if (id.disconnect() != 0 && !established) {
                LOG.debug("nvmf: RDMA qpair from {}: rdma_disconnect before ESTABLISHED", peer());
            }
        }
        RdmaRequest r;
        while ((r = readWaiters.pollFirst()) != null) {
            release(r);
        }
        group.dropWaiting(this);
        group.completedNvmeIo += commands.close();
        destroyIfIdle();
    }

    /** Frees a waiting request of this closing qpair the group took out of its queue. */
    void dropped(RdmaRequest r) {
        release(r);
    }

    private void destroyIfIdle() {
        if (life == Life.CLOSING && recvsPosted <= 0 && sendsPosted <= 0 && busy == 0) {
            destroy();
        }
    }

    /** The close's bound passed: destroy whatever is still posted or executing (rule R5). */
    void closeBoundExpired() {
        if (life == Life.CLOSING) {
            LOG.warn("nvmf: RDMA qpair {} from {} destroyed with {} receive(s), {} send(s) posted and {} command(s) "
                    + "busy after {} ms", qid(), peer(), recvsPosted, sendsPosted, busy, CLOSE_BOUND_NANOS / 1_000_000);
            destroy();
        }
    }

    private void destroy() {
        life = Life.DESTROYED;
        for (RdmaRequest r : requests) {
            if (r.state != RdmaRequest.State.FREE && r.state != RdmaRequest.State.EXECUTING) {
                release(r); // an executing one gives its buffer back when it completes
            }
        }
        group.removed(this);
        id.close(); // destroys the queue pair, then the id; every event of it was acknowledged when read
        tableRegion.close();
        sends.close();
        recvs.close();
        if (busy == 0) {
            arena.close();
        } // else commands still executing read their capsules: the table goes when the last comes back
    }

    /** The last command of a destroyed qpair came back: its table can go. */
    private void freeTableIfDone() {
        if (life == Life.DESTROYED && busy == 0 && arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "RdmaQpair[qid " + qid() + ", " + state() + ", " + life + ", " + peer() + "]";
    }
}
