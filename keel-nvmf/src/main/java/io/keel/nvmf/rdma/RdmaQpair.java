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
import io.keel.rdma.SendWorkRequests;
import io.keel.rdma.WorkCompletions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe-oF RDMA queue pair on its poll group's thread (rule R1): its cm id (its events arrive on the group's
 * channel), its reliable-connected queue pair completing into the group's queue for the device, where its capsules
 * arrive ({@link RdmaReceives}: the group's shared receive queue on the device, or with {@code no_srq} buffers of its
 * own, one per entry), and a table of responses made and registered once at accept, with an {@link RdmaRequest} per
 * entry. Where each command goes is the transport-neutral {@link QpairCommands}' decision (Connect and admin
 * commands to the application thread, I/O commands to the queue's executor), as for TCP.
 *
 * <p>A command's life: its capsule's RECV completes (one of the shared queue's is routed here by its queue pair
 * number) and a free request takes it, or it waits for one ({@code pending_free_request}: the host got a response
 * before its SEND completed here); a keyed SGL takes its data buffers (one, or above 128 KiB several) and data work
 * requests from the group (or waits for them in the group's queue, rule R6); a write RDMA READs the host's data (each
 * work request gathering up to {@link #MAX_SGE} buffers; at most the read depth agreed at accept at once, the rest
 * waiting here); it executes; the response is SENT — after the RDMA WRITEs of a read's data, in the same chain — and
 * the receive buffer is posted again; the request is free when the SEND completes. Work requests queued during a poll
 * go out in one post per qpair at its end (unless {@code no_wr_batching}).
 *
 * <p>Life (rule R5): {@code OPEN} (the queue's states are {@link QpairCommands}') → {@code CLOSING} (disconnected:
 * waits until every posted work request has completed, flushed, and every command came back, at most
 * {@link #CLOSE_BOUND_NANOS}; on a shared receive queue also for IBV_EVENT_QP_LAST_WQE_REACHED, at most
 * {@link #LAST_WQE_BOUND_NANOS} from the close once nothing else is left) → {@code DESTROYED} (queue pair and cm id
 * destroyed here, table freed). A DISCONNECTED event is remembered: a qpair that saw one answers it once and never
 * waits for another (scenario S5).
 * {@link #close} is idempotent.
 */
final class RdmaQpair implements QpairCommands.Queue<RdmaRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaQpair.class);
        /** How long a closing qpair waits for its work requests to flush and its commands to come back. */
    static final long CLOSE_BOUND_NANOS = 5_000_000_000L;
    /**
     * How long after its close a qpair on a shared receive queue, with nothing else left, waits for
     * IBV_EVENT_QP_LAST_WQE_REACHED (SPDK waits 4 s for it; Soft-RoCE in Linux 6.1 never sends it).
     */
    static final long LAST_WQE_BOUND_NANOS = 1_000_000_000L;

    // work request ids: slot (16 bits) | generation (16) | kind (4) | entry (28); a shared receive queue's receives
    // carry only their kind and buffer (the completion's queue pair number names the qpair)
    static final int KIND_RECV = 0;
    static final int KIND_SEND = 1;
    static final int KIND_READ = 2;
    static final int KIND_SHARED_RECV = 3;
    /** An unsignaled RDMA READ or WRITE: it completes only in error (a flush), and counts for nothing. */
    static final int KIND_UNSIGNALED = 4;
    /** Scatter/gather entries per RDMA READ or WRITE at most (SPDK's NVMF_DEFAULT_TX_SGE). */
    static final int MAX_SGE = 16;

    /** The connection's life; the queue's own states are {@link QpairCommands}'s. */
    enum Life { OPEN, CLOSING, DESTROYED }

    private final RdmaPollGroup group;
    private final RdmaPoller poller;
    private final CmId id;
    private final ListenAddress listenAddress;
    private final ListenAddress peerAddress;
    private final int depth;
    private final int readDepth;
    private final int slot;
    private final int generation;
    /** Data buffers one RDMA READ or WRITE gathers (the device's max_sge, at most {@link #MAX_SGE}). */
    private final int sgePerWr;
    /** Send work requests per entry: its most RDMA READs or WRITEs, then its response. */
    private final int stride;
    /** Where capsules arrive: the poller's shared receive queue's buffers, or this qpair's own. */
    private final RdmaReceives receives;
    private final boolean sharedReceives;
    private final Arena arena = Arena.ofConfined();
    private final MemoryRegion tableRegion;
    private final SendWorkRequests sends;
    private final RdmaRequest[] requests;
    /** Free requests' indexes, a stack. */
    private final int[] free;
    private int freeCount;
    /** Capsules (buffer, bytes) that arrived while every request was busy, a ring, oldest first. */
    private final int[] waitingBuffer;
    private final int[] waitingBytes;
    private int waitingHead;
    private int waitingCount;
    private final ArrayDeque<RdmaRequest> readWaiters;
    private final int queuePairNumber;
    private QueuePair qp;

    private final QpairCommands<RdmaRequest> commands;
    private Life life = Life.OPEN;
    private boolean established;
    private boolean disconnectSeen;
    private boolean disconnectSent;
    /** On a shared receive queue: the device said this queue pair takes no more of its receives. */
    private boolean lastWqeReached;
    private long closingSince;
    private int sqhd;
    private int readsInFlight;
    /** Posted signaled sends and reads not yet completed (flushed ones included). */
    private int sendsPosted;
    // the send chain queued for the next post (-1: empty)
    private int sendHead = -1;
    private int sendTail = -1;
    private int sendCount;
    private boolean dirty;

    /**
     * Makes and registers the response table (and with no shared receive queue on {@code poller}, its own capsule
     * buffers, queued for the accept's post), creates the queue pair on the poller's completion queue (and shared
     * receive queue); throws {@link io.keel.rdma.RdmaException} if the device refuses, having freed what it made.
     * At most {@code readDepth} RDMA READs are outstanding at once.
     */
    RdmaQpair(RdmaPollGroup group, RdmaPoller poller, CmId id, int slot, int generation, int depth, int readDepth,
            int capsuleSize, ListenAddress listenAddress, ListenAddress peerAddress) {
        this.group = group;
        this.poller = poller;
        this.id = id;
        this.slot = slot;
        this.generation = generation;
        this.depth = depth;
        this.readDepth = readDepth;
        this.listenAddress = listenAddress;
        this.peerAddress = peerAddress;
        this.sharedReceives = poller.srq != null;
        this.sgePerWr = sgePerWr(group.maxDataBuffers(), poller.device.attributes().maxSge());
        this.stride = strideFor(group.maxDataBuffers(), sgePerWr);
        this.commands = new QpairCommands<>(this, group.transport().registry());
        MemorySegment table = arena.allocate((long) depth * Cqe.SIZE, 64);
        MemoryRegion region = null;
        RdmaReceives own = null;
        SendWorkRequests s = null;
        try {
            region = poller.device.pd().register(table, RdmaAbi.IBV_ACCESS_LOCAL_WRITE);
            if (!sharedReceives) {
                own = new RdmaReceives(poller.device.pd(), depth, capsuleSize, i -> workRequestId(KIND_RECV, i));
            }
            s = new SendWorkRequests(stride * depth, sgePerWr);
            qp = id.createQueuePair(poller.device.pd(), poller.cq, poller.cq, poller.srq, new QueuePairCapabilities(
                    stride * depth, sharedReceives ? 0 : depth, sgePerWr, sharedReceives ? 0 : 1, 0),
                    group.queuePairContext(slot, generation));
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            if (own != null) {
                own.close();
            }
            if (region != null) {
                region.close();
            }
            arena.close();
            throw e;
        }
        this.tableRegion = region;
        this.receives = sharedReceives ? poller.sharedReceives : own;
        this.sends = s;
        this.queuePairNumber = qp.number();
        this.requests = new RdmaRequest[depth];
        this.free = new int[depth];
        this.waitingBuffer = new int[depth];
        this.waitingBytes = new int[depth];
        this.readWaiters = new ArrayDeque<>(depth);
        for (int i = 0; i < depth; i++) {
            requests[i] = new RdmaRequest(this, i, table.asSlice((long) i * Cqe.SIZE, Cqe.SIZE),
                    group.maxDataBuffers());
            sends.id(responseSlot(i), workRequestId(KIND_SEND, i));
            free[depth - 1 - i] = i; // request 0 on top
        }
        freeCount = depth;
    }

    /** Data buffers one RDMA READ or WRITE gathers on a device of {@code maxSge} entries. */
    static int sgePerWr(int maxDataBuffers, int maxSge) {
        return Math.max(1, Math.min(maxDataBuffers, Math.min(maxSge, MAX_SGE)));
    }

    /** Send work requests per entry: the most data work requests a command takes, and its response. */
    static int strideFor(int maxDataBuffers, int sgePerWr) {
        return DataPieces.workRequests(maxDataBuffers, sgePerWr) + 1;
    }

    /** Data work requests a command in {@code buffers} data buffers takes here. */
    int dataWorkRequests(int buffers) {
        return DataPieces.workRequests(buffers, sgePerWr);
    }

    /** Entry {@code i}'s response SEND: the last of its stretch. */
    private int responseSlot(int i) {
        return i * stride + stride - 1;
    }

    /** The id of a shared receive queue's receive {@code buffer}. */
    static long sharedReceiveId(int buffer) {
        return (long) KIND_SHARED_RECV << 28 | buffer;
    }

    private long workRequestId(int kind, int entry) {
        return (long) slot << 48 | (long) generation << 32 | (long) kind << 28 | entry;
    }

    /** Posts its own receives, if any, moves the cm id's events to the group's channel, accepts; false on failure. */
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

    /** Send work requests per entry. */
    int stride() {
        return stride;
    }

    /** The RDMA READs it may have outstanding, the initiator depth its accept offers. */
    int readDepth() {
        return readDepth;
    }

    /** Its queue pair's number, as its completions carry it. */
    int queuePairNumber() {
        return queuePairNumber;
    }

    boolean sharedReceives() {
        return sharedReceives;
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

    /**
     * A work completion of this qpair: {@code kind} and {@code entry} (a request, or for receives a buffer) from its
     * id, {@code status} its status. A shared receive queue's buffer was counted as received by the group.
     */
    void completion(int kind, int entry, int status, int byteLength) {
        switch (kind) {
            case KIND_RECV -> {
                receives.received(entry);
                capsuleArrived(entry, status, byteLength);
            }
            case KIND_SHARED_RECV -> capsuleArrived(entry, status, byteLength);
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
                RdmaRequest r = requests[entry];
                sendsPosted--;
                readsInFlight -= r.readsPosted;
                r.readsPosted = 0;
                if (status != RdmaAbi.IBV_WC_SUCCESS) {
                    failed("RDMA READ", status);
                }
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
            case KIND_UNSIGNALED -> failed("RDMA READ or WRITE", status); // only an error completes one
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

    /** A capsule arrived in receive buffer {@code buffer}: a free request takes it, or it waits for one. */
    private void capsuleArrived(int buffer, int status, int bytes) {
        if (status != RdmaAbi.IBV_WC_SUCCESS) {
            failed("RECV", status);
            returnCapsule(buffer);
            return;
        }
        if (life != Life.OPEN) {
            returnCapsule(buffer); // a capsule that arrived as the queue closed: dropped with it
            return;
        }
        poller.stats.requests++;
        if (freeCount > 0) {
            start(requests[free[--freeCount]], buffer, bytes);
            return;
        }
        if (waitingCount == depth) {
            // more commands outstanding than the queue has entries: only a shared receive queue lets them in
            returnCapsule(buffer);
            close("the host sent more than " + depth + " commands without waiting for their responses");
            return;
        }
        // the host got a response before its SEND completed here: the capsule starts when a request is free
        int at = (waitingHead + waitingCount++) % depth;
        waitingBuffer[at] = buffer;
        waitingBytes[at] = bytes;
        poller.stats.pendingFreeRequest++;
    }

    private void start(RdmaRequest r, int buffer, int bytes) {
        r.attach(buffer, receives.capsule(buffer));
        long now = group.clock().nanoTime();
        r.receivedNanos = now;
        sqhd = sqhd + 1 >= depth ? 0 : sqhd + 1;
        commands.touch(now);
        r.state = RdmaRequest.State.EXECUTING;
        int capsuleData = receives.capsuleSize() - Sqe.SIZE;
        int status = bytes < Sqe.SIZE ? Status.field(Status.INVALID_FIELD, true)
                : r.sgl.decode(r.sqe(), bytes - Sqe.SIZE, capsuleData, transferLimit());
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
                r.data = receives.inCapsuleData(buffer, r.sgl.offset(), r.sgl.length());
                dispatch(r);
            }
            case KEYED -> {
                r.state = RdmaRequest.State.NEED_DATA;
                group.needData(r);
            }
            default -> throw new IllegalStateException(r.sgl.kind().name());
        }
    }

    /**
     * The most data a command may move: max_io_size on an I/O queue; one data buffer on the admin queue and before
     * the Connect (the controller logic takes its data in one buffer).
     */
    private long transferLimit() {
        return qid() > 0 ? group.maxTransfer() : Math.min(group.maxTransfer(), group.dataBufferSize());
    }

    /** The group gave {@code r} its data buffers and data work requests: read the host's data, or execute. */
    void dataReady(RdmaRequest r) {
        if (r.sgl.hostToController()) {
            r.state = RdmaRequest.State.READING;
            if (!readWaiters.isEmpty() || !readFits(r)) {
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

    /** Whether {@code r}'s RDMA READs fit the read depth now (alone they always do: the device paces them). */
    private boolean readFits(RdmaRequest r) {
        return readsInFlight + r.dataWrs <= readDepth || readsInFlight == 0;
    }

    private void startWaitingReads() {
        RdmaRequest r;
        while (life == Life.OPEN && (r = readWaiters.peekFirst()) != null && readFits(r)) {
            readWaiters.pollFirst();
            postRead(r);
        }
    }

    /** RDMA READs of the host's data into {@code r}'s buffers; only the last signaled (they complete in order). */
    private void postRead(RdmaRequest r) {
        int first = r.index * stride;
        int last = dataTransfer(r, RdmaAbi.IBV_WR_RDMA_READ);
        sends.operation(last, RdmaAbi.IBV_WR_RDMA_READ, RdmaAbi.IBV_SEND_SIGNALED);
        sends.id(last, workRequestId(KIND_READ, r.index));
        sends.end(last);
        r.readsPosted = r.dataWrs;
        readsInFlight += r.dataWrs;
        sendsPosted++;
        queueSend(first, last, r.dataWrs);
    }

    /**
     * Fills {@code r}'s data work requests with {@code opcode} (unsignaled, linked in order), each gathering up to
     * {@link #sgePerWr} of its pieces against the next stretch of the host's buffer; returns the last one's slot.
     */
    private int dataTransfer(RdmaRequest r, int opcode) {
        int w = r.index * stride;
        long remote = r.sgl.remoteAddress();
        int piece = 0;
        for (int k = 0; k < r.dataWrs; k++, w++) {
            sends.operation(w, opcode, 0);
            sends.id(w, workRequestId(KIND_UNSIGNALED, r.index));
            int n = Math.min(sgePerWr, r.bufferCount - piece);
            long bytes = 0;
            for (int j = 0; j < n; j++, piece++) {
                MemorySegment p = r.pieces[piece];
                sends.sge(w, j, p.address(), (int) p.byteSize(), poller.device.iobufKey(p.address()));
                bytes += p.byteSize();
            }
            sends.sgeCount(w, n);
            sends.remote(w, remote, r.sgl.key());
            remote += bytes;
            if (k > 0) {
                sends.link(w - 1, w);
            }
        }
        return w - 1;
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
        int send = responseSlot(i);
        boolean invalidate = r.sgl.invalidate();
        sends.operation(send, invalidate ? RdmaAbi.IBV_WR_SEND_WITH_INV : RdmaAbi.IBV_WR_SEND,
                RdmaAbi.IBV_SEND_SIGNALED);
        if (invalidate) {
            sends.immediate(send, r.sgl.key()); // invalidate_rkey shares imm_data's place
        }
        sends.single(send, tableRegion, r.responseAddress, Cqe.SIZE);
        sends.end(send);
        boolean writeData = Status.codeOf(statusField) == Status.SUCCESS && r.sgl.kind() == RdmaSgl.Kind.KEYED
                && !r.sgl.hostToController() && r.bufferCount > 0;
        r.state = RdmaRequest.State.COMPLETING;
        sendsPosted++;
        if (writeData) {
            int last = dataTransfer(r, RdmaAbi.IBV_WR_RDMA_WRITE); // unsignaled: the SEND after them completes for all
            sends.link(last, send);
            queueSend(i * stride, send, r.dataWrs + 1);
        } else {
            queueSend(send, send, 1);
        }
        int buffer = r.capsule; // the capsule is consumed (the CQE has its CID): its buffer takes the next one
        r.capsule = -1;
        returnCapsule(buffer);
    }

    /** The response's SEND completed: the request is free, and takes the capsule that waited longest, if any. */
    private void responded(RdmaRequest r) {
        poller.stats.requestLatency += group.clock().nanoTime() - r.receivedNanos;
        release(r);
        if (waitingCount > 0 && life == Life.OPEN) {
            int buffer = waitingBuffer[waitingHead];
            int bytes = waitingBytes[waitingHead];
            waitingHead = (waitingHead + 1) % depth;
            waitingCount--;
            start(requests[free[--freeCount]], buffer, bytes);
        }
    }

    /** Gives back what {@code r} holds and frees it. */
    private void release(RdmaRequest r) {
        if (r.state == RdmaRequest.State.FREE) {
            return;
        }
        r.state = RdmaRequest.State.FREE;
        free[freeCount++] = r.index;
        if (r.capsule >= 0) {
            int buffer = r.capsule;
            r.capsule = -1;
            returnCapsule(buffer);
        }
        group.releaseData(r);
    }

    /**
     * Receive buffer {@code buffer} is done with: back to the shared receive queue whatever this qpair's state (its
     * buffers are the group's), or posted again on this qpair's own queue while it is open (else it goes with it).
     */
    private void returnCapsule(int buffer) {
        if (sharedReceives) {
            group.repostShared(poller, buffer);
        } else if (life == Life.OPEN) {
            receives.repost(buffer);
            queued();
        } else {
            receives.drop(buffer);
        }
    }

    /** Requests not FREE. */
    private int busy() {
        return depth - freeCount;
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

    /** Posts the queued chains: one post for the sends, one for its own receives. */
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
                sendsPosted = 0; // what the provider did not take never completes: the close's bound ends the wait
                postFailed("ibv_post_send", rc);
            }
        }
        if (!sharedReceives && receives.pending()) {
            int rc = receives.flush(qp, poller.stats);
            if (rc != 0) {
                postFailed("ibv_post_recv", rc);
            }
        }
    }

    /** A post the provider refused: the qpair cannot go on and closes. */
    private void postFailed(String call, int rc) {
        LOG.warn("nvmf: RDMA qpair {} from {}: {} failed ({})", qid(), peer(), call, rc);
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

    /**
     * IBV_EVENT_QP_LAST_WQE_REACHED (the group handled every completion the device wrote before it): no receive of
     * the shared queue is this queue pair's any more, so once destroyed its number cannot take a late one with it. On
     * an open qpair it means the device put the queue pair in error: it closes.
     */
    void lastWqeReached() {
        lastWqeReached = true;
        poller.lastWqeEventSeen = true;
        if (life == Life.OPEN) {
            close("the device ended its receives (IBV_EVENT_QP_LAST_WQE_REACHED)");
        } else {
            destroyIfIdle();
        }
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
        while (waitingCount > 0) {
            returnCapsule(waitingBuffer[waitingHead]);
            waitingHead = (waitingHead + 1) % depth;
            waitingCount--;
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
        if (life == Life.CLOSING && (sharedReceives ? lastWqeReached : receives.outstanding() <= 0) && sendsPosted <= 0
                && busy() == 0) {
            destroy();
        }
    }

    /** Closing, with only IBV_EVENT_QP_LAST_WQE_REACHED still to come. */
    boolean waitingOnlyForLastWqe() {
        return life == Life.CLOSING && sharedReceives && !lastWqeReached && sendsPosted <= 0 && busy() == 0;
    }

    /** No IBV_EVENT_QP_LAST_WQE_REACHED within its bound: destroyed without (a late receive is reposted by number). */
    void lastWqeBoundExpired() {
        if (waitingOnlyForLastWqe()) {
            poller.noLastWqeEvent(this);
            destroy();
        }
    }

    /** The close's bound passed: destroy whatever is still posted or executing (rule R5). */
    void closeBoundExpired() {
        if (life == Life.CLOSING) {
            LOG.warn("nvmf: RDMA qpair {} from {} destroyed with {}, {} send(s) posted and {} command(s) busy after {} "
                    + "ms", qid(), peer(), sharedReceives ? lastWqeReached ? "its last receive reached"
                            : "no IBV_EVENT_QP_LAST_WQE_REACHED" : receives.outstanding() + " receive(s) posted",
                    sendsPosted, busy(), CLOSE_BOUND_NANOS / 1_000_000);
            destroy();
        }
    }

    private void destroy() {
        life = Life.DESTROYED;
        for (RdmaRequest r : requests) {
            if (r.state != RdmaRequest.State.FREE && r.state != RdmaRequest.State.EXECUTING) {
                release(r); // an executing one gives its buffers back when it completes
            }
        }
        group.removed(this);
        id.close(); // destroys the queue pair, then the id; every event of it was acknowledged when read
        tableRegion.close();
        sends.close();
        if (!sharedReceives) {
            receives.close(); // its buffers go once no executing command reads one
        }
        freeTableIfDone();
    }

    /** Once destroyed and the last command came back: the response table can go. */
    private void freeTableIfDone() {
        if (life == Life.DESTROYED && busy() == 0 && arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "RdmaQpair[qid " + qid() + ", " + state() + ", " + life + ", " + peer() + "]";
    }
}
