package io.keel.nvmf.rdma;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufChannel;
import io.keel.core.sys.Epoll;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.core.time.Clock;
import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvme.spec.Sqe;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.transport.BufferViews;
import io.keel.nvmf.transport.Transport;
import io.keel.nvmf.transport.TransportPollGroup;
import io.keel.rdma.AsyncEventType;
import io.keel.rdma.CmEvent;
import io.keel.rdma.CmEventChannel;
import io.keel.rdma.CmId;
import io.keel.rdma.ConnectionParameters;
import io.keel.rdma.RdmaException;
import io.keel.rdma.WorkCompletions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poll group of the RDMA transport ({@code nvmf_tgt_poll_group_NNN}): a lightweight thread on one reactor that
 * owns its qpairs (rule R1), a CM event channel their cm ids are moved to when accepted (so their events are read
 * and handled here, by their owner: rule R2, scenario S1), per device a completion queue and a shared receive queue
 * ({@link RdmaPoller}; a receive's completion goes to the qpair its queue pair number names) polled every iteration
 * in poll mode and armed through its completion channel in interrupt mode, and bounded
 * shares of the data buffers ({@code num_shared_buffers}) and data work requests ({@code data_wr_pool_size}). A
 * request that finds either spent waits in the group's {@link PendingQueue}, re-driven when one is freed and on
 * every idle poll (rule R6, scenario S3).
 */
final class RdmaPollGroup implements TransportPollGroup {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaPollGroup.class);
    /** How often waiting requests are retried while some wait (buffers freed on other threads come back here). */
    static final long RETRY_PERIOD_MICROS = 100;
    /** How often closing qpairs are checked against their bound. */
    static final long CLOSE_CHECK_MICROS = 100_000;
    /** How long {@link #stop} waits for its qpairs to be destroyed before it frees anyway. */
    static final long STOP_BOUND_NANOS = RdmaQpair.CLOSE_BOUND_NANOS + 1_000_000_000L;
    private static final MessageFn<RdmaPollGroup> FLUSH = RdmaPollGroup::flushFromMessage;

    private final String name;
    /** Its place in the transport's list: queue pair contexts carry it, so async events find their group. */
    private final int index;
    private final KeelThread thread;
    private final RdmaTransport transport;
    private final IoBuf iobuf;
    private final int bufferLimit;
    private final int workRequestLimit;
    private final int smallCache;
    private final int largeCache;
    private final boolean batching;
    private final long maxTransfer;
    /** The size a command's data is cut into above it (a power of two within iobuf's large buffer). */
    private final long dataBufferSize;
    /** The most data buffers one command takes. */
    private final int maxDataBuffers;
    /** A receive buffer: an SQE and the most in-capsule data. */
    private final int capsuleSize;
    private final BufferViews views = new BufferViews();
    private final PendingQueue<RdmaRequest> waitingForData = new PendingQueue<>(this::takeData);
    private final List<RdmaPoller> pollers = new ArrayList<>();
    private final List<RdmaQpair> qpairs = new ArrayList<>();
    /** Qpairs by slot (the top bits of their work request ids); null where free. */
    private RdmaQpair[] slots = new RdmaQpair[8];
    private final int[] generations = new int[1 << 16];
    private final Map<Long, RdmaQpair> byCmId = new HashMap<>();
    private final List<RdmaQpair> toFlush = new ArrayList<>();
    private CmEventChannel cmChannel;
    private FdWatch cmWatch;
    private final CmEvent event = new CmEvent();
    private ConnectionParameters acceptParameters;
    private IoBufChannel buffers;
    private Poller completionPoller;
    private Poller retryPoller;
    private Poller closePoller;
    private final List<FdWatch> completionWatches = new ArrayList<>();
    private boolean interruptMode;
    private boolean inPoll;
    private boolean flushScheduled;
    private int buffersInUse;
    private int workRequestsInUse;
    private boolean stopping;

    // statistics (nvmf_get_stats), owner thread only
    long adminQpairs;
    long ioQpairs;
    long completedNvmeIo;

    RdmaPollGroup(String name, int index, KeelThread thread, RdmaTransport transport, IoBuf iobuf, int bufferLimit,
            int workRequestLimit, int smallCache, int largeCache) {
        this.name = name;
        this.index = index;
        this.thread = thread;
        this.transport = transport;
        this.iobuf = iobuf;
        this.bufferLimit = bufferLimit;
        this.workRequestLimit = workRequestLimit;
        this.smallCache = smallCache;
        this.largeCache = largeCache;
        this.batching = !transport.rdmaOptions().noWrBatching();
        this.dataBufferSize = Math.min(RdmaTransportOptions.DATA_BUFFER_SIZE,
                Long.highestOneBit(iobuf.largeBufsize()));
        long maxIoSize = transport.options().maxIoSize();
        this.maxTransfer = Math.min(maxIoSize, dataBufferSize * RdmaTransportOptions.MAX_DATA_BUFFERS);
        if (maxTransfer < maxIoSize) {
            LOG.error("nvmf: {}: max_io_size {} is more than {} data buffers of {} bytes (iobuf large_bufsize {}): "
                    + "commands above {} bytes fail", name, maxIoSize, RdmaTransportOptions.MAX_DATA_BUFFERS,
                    dataBufferSize, iobuf.largeBufsize(), maxTransfer);
        }
        this.maxDataBuffers = DataPieces.buffers(maxTransfer, dataBufferSize);
        this.capsuleSize = Sqe.SIZE + (int) transport.options().inCapsuleDataSize();
    }

    String name() {
        return name;
    }

    /** The {@code qp_context} of the queue pair in {@code slot} of this generation: how its async events find it. */
    long queuePairContext(int slot, int generation) {
        return QueuePairContext.of(index, slot, generation);
    }

    @Override
    public KeelThread thread() {
        return thread;
    }

    @Override
    public Transport.PollGroupStats stats() {
        return RdmaPollGroupStats.of(this).asPollGroupStats();
    }

    RdmaTransport transport() {
        return transport;
    }

    Clock clock() {
        return thread.runtime().clock();
    }

    /** The most data one command may move (max_io_size). */
    long maxTransfer() {
        return maxTransfer;
    }

    /** The size of the data buffers a command's data is cut into when it is larger. */
    long dataBufferSize() {
        return dataBufferSize;
    }

    /** The most data buffers one command takes. */
    int maxDataBuffers() {
        return maxDataBuffers;
    }

    boolean batching() {
        return batching;
    }

    List<RdmaQpair> qpairs() {
        return qpairs;
    }

    List<RdmaPoller> pollers() {
        return pollers;
    }

    int buffersInUse() {
        return buffersInUse;
    }

    int bufferLimit() {
        return bufferLimit;
    }

    int workRequestsInUse() {
        return workRequestsInUse;
    }

    int workRequestLimit() {
        return workRequestLimit;
    }

    /** Requests waiting for a data buffer or data work request now. */
    int waitingForData() {
        return waitingForData.size();
    }

    /** Times a request had to wait for one (SPDK's {@code pending_data_buffer}). */
    long pendingDataBuffer() {
        return waitingForData.queued();
    }

    /** Opens the group's CM channel, iobuf channel and pollers (on the group's thread). */
    void start() {
        interruptMode = !thread.runtime().pollsContinuously();
        cmChannel = CmEventChannel.create();
        cmWatch = thread.watchFd(cmChannel.fd(), Epoll.EPOLLIN, ready -> cmEvents());
        acceptParameters = new ConnectionParameters();
        buffers = iobuf.channel("nvmf_RDMA", smallCache, largeCache);
        completionPoller = thread.registerPoller("nvmf_rdma_poll_group", this::poll);
        retryPoller = thread.registerPoller("nvmf_rdma_retry_pending", this::retryPoll, RETRY_PERIOD_MICROS);
        retryPoller.pause();
        closePoller = thread.registerPoller("nvmf_rdma_close_bound", this::checkClosing, CLOSE_CHECK_MICROS);
    }

    // ---- accepting (a message from the transport) ----

    /**
     * Makes the qpair for a connect request the transport checked and accepts it, or rejects it with NO_RESOURCES
     * (a log line says why). {@code id} is this group's from now.
     */
    void accept(CmId id, RdmaDevice device, ConnectRequest request, ListenAddress at, ListenAddress peer) {
        int depth = request.hsqsize() + 1;
        int readDepth = ConnectRequestCheck.readDepth(request, transport.options(), device.attributes());
        RdmaQpair q = null;
        String refused = null;
        try {
            if (stopping) {
                refused = "the transport is stopping";
            } else if (readDepth < 1) {
                refused = "the device " + device.name() + " allows no RDMA READ (max_qp_init_rd_atom "
                        + device.attributes().maxQpInitRdAtom() + ")";
            } else {
                RdmaPoller p = poller(device);
                int sge = RdmaQpair.sgePerWr(maxDataBuffers, device.attributes().maxSge());
                int cqes = p.cqesFor(depth, RdmaQpair.strideFor(maxDataBuffers, sge));
                if (p.cqeReserved + cqes > p.cq.capacity()) {
                    refused = "the completion queue of " + name + " on " + device.name() + " is full (" + p.cqeReserved
                            + " of " + p.cq.capacity() + " entries reserved; transport option "
                            + (p.srq != null ? "max_srq_depth" : "num_cqe") + ")";
                } else {
                    int slot = freeSlot();
                    int generation = generations[slot] = generations[slot] + 1 & 0xFFFF;
                    q = new RdmaQpair(this, p, id, slot, generation, depth, readDepth, capsuleSize, at, peer);
                    p.cqeReserved += cqes;
                    slots[slot] = q;
                    qpairs.add(q);
                    byCmId.put(id.address(), q);
                    if (q.sharedReceives()) {
                        p.byQpNum.put(q.queuePairNumber(), q);
                    }
                }
            }
        } catch (RdmaException | IllegalStateException e) {
            refused = e.getMessage();
        }
        if (refused != null) {
            LOG.warn("nvmf: RDMA connect request from {}:{} (QID {}) rejected: {}", peer.traddr(), peer.trsvcid(),
                    request.qid(), refused);
            reject(id, RdmaCmPrivateData.STS_NO_RESOURCES);
            return;
        }
        new RdmaCmPrivateData().wrap(acceptParameters.privateData()).clear().recfmt(0).crqsize(depth);
        // no RDMA READs from the host (it moves no data itself); ours up to the agreed depth
        acceptParameters.privateDataLength(RdmaCmPrivateData.ACCEPT_SIZE).responderResources(0)
                .initiatorDepth(readDepth).rnrRetryCount(7);
        if (!q.accept(acceptParameters, cmChannel)) {
            q.close("accept failed");
        } else {
            LOG.debug("nvmf: RDMA qpair (QID {}, {} entries, {} RDMA READs; the host allows {} and asks for {}) from "
                    + "{}:{} accepted on {}{}", request.qid(), depth, readDepth, request.initiatorDepth(),
                    request.responderResources(), peer.traddr(), peer.trsvcid(), name,
                    q.sharedReceives() ? " (shared receive queue)" : "");
        }
    }

    /**
     * Makes the group's part of {@code device} — completion queue, shared receive queue and its buffers — ahead of
     * the first qpair (SPDK makes it with the poll group), so a host's connect does not wait for it.
     */
    void prepare(RdmaDevice device) {
        if (stopping || completionPoller == null) {
            return;
        }
        try {
            poller(device);
        } catch (RdmaException e) {
            LOG.warn("nvmf: {} on RDMA device {}: {} (tried again at the first connect)", name, device.name(),
                    e.getMessage());
        }
    }

    /** Rejects a connect request with {@code status} and destroys its id (whoever owns it: the caller). */
    static void reject(CmId id, int status) {
        try (Arena a = Arena.ofConfined()) {
            // zero-padded to an accept's size, as before; hosts read the first REJECT_SIZE bytes
            MemorySegment data = a.allocate(RdmaCmPrivateData.ACCEPT_SIZE);
            new RdmaCmPrivateData().wrap(data).recfmt(0).sts(status);
            id.reject(data, RdmaCmPrivateData.ACCEPT_SIZE);
        } finally {
            id.close();
        }
    }

    private RdmaPoller poller(RdmaDevice device) {
        for (RdmaPoller p : pollers) {
            if (p.device == device) {
                return p;
            }
        }
        RdmaPoller p = RdmaPoller.create(name, device, transport.rdmaOptions(), capsuleSize);
        pollers.add(p);
        if (interruptMode) {
            completionWatches.add(thread.watchFd(p.channel.fd(), Epoll.EPOLLIN, ready -> completionEvents(p)));
        }
        completionPoller.resume(); // a new completion queue is not armed yet
        return p;
    }

    private int freeSlot() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null) {
                return i;
            }
        }
        if (slots.length >= generations.length) {
            throw new IllegalStateException("no free qpair slot in " + name);
        }
        int i = slots.length;
        slots = Arrays.copyOf(slots, Math.min(slots.length * 2, generations.length));
        return i;
    }

    /** A destroyed qpair leaves the group. */
    void removed(RdmaQpair q) {
        slots[q.slot()] = null;
        qpairs.remove(q);
        byCmId.remove(q.cmId().address());
        RdmaPoller p = q.poller();
        if (q.sharedReceives()) {
            p.byQpNum.remove(q.queuePairNumber());
        }
        p.cqeReserved -= p.cqesFor(q.depth(), q.stride());
    }

    // ---- CM events of the group's qpairs (rule R2: read and handled by their owner) ----

    private int cmEvents() {
        int n = 0;
        int rc;
        while ((rc = cmChannel.next(event)) > 0) {
            n++;
            RdmaQpair q = byCmId.get(event.id());
            if (q == null) {
                LOG.debug("nvmf: {}: {} for no qpair of this group", name, event);
                continue;
            }
            switch (event.type()) {
                case ESTABLISHED -> q.established();
                case DISCONNECTED -> q.disconnected("host disconnected");
                case TIMEWAIT_EXIT -> { }
                case null -> LOG.debug("nvmf: {}: unknown CM event {}", name, event);
                default -> q.disconnected("CM event " + event);
            }
        }
        if (rc < 0) {
            LOG.warn("nvmf: {}: reading the CM event channel failed ({})", name, rc);
        }
        return n;
    }

    // ---- asynchronous events of the group's queue pairs (read by the transport, forwarded here: rule R2) ----

    /** The device reported {@code type} for the queue pair whose {@link #queuePairContext} is {@code context}. */
    void queuePairEvent(long context, AsyncEventType type, String event) {
        int slot = QueuePairContext.slot(context);
        int generation = QueuePairContext.generation(context);
        RdmaQpair q = slot < slots.length ? slots[slot] : null;
        if (q == null || q.generation() != generation) {
            LOG.debug("nvmf: {}: {} for a qpair already destroyed", name, event);
            return;
        }
        switch (type) {
            case QP_LAST_WQE_REACHED -> {
                drainCompletions(); // the receives it took before the event are in the queue: handled first
                q.lastWqeReached();
            }
            case COMM_EST, SQ_DRAINED, PATH_MIG -> LOG.debug("nvmf: {}: {} on {}", name, event, q);
            default -> {
                LOG.warn("nvmf: {}: {} on {}", name, event, q);
                q.close("the device reported " + event);
            }
        }
    }

    /** Takes every completion now in the group's queues. */
    private void drainCompletions() {
        inPoll = true;
        try {
            for (int i = 0; i < pollers.size(); i++) {
                RdmaPoller p = pollers.get(i);
                for (int rounds = p.cq.capacity() / RdmaPoller.BATCH + 1; rounds > 0; rounds--) {
                    if (poll(p) < RdmaPoller.BATCH) {
                        break;
                    }
                }
            }
        } finally {
            inPoll = false;
        }
        flushAll();
    }

    // ---- completions ----

    private int poll() {
        inPoll = true;
        int work = 0;
        try {
            for (int i = 0; i < pollers.size(); i++) {
                work += poll(pollers.get(i));
            }
            if (work == 0 && !waitingForData.isEmpty()) {
                work += waitingForData.redrive(); // every idle poll re-drives (S3)
            }
        } finally {
            inPoll = false;
        }
        flushAll();
        if (work == 0 && interruptMode) {
            work = arm();
        }
        return work > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    private int poll(RdmaPoller p) {
        WorkCompletions wcs = p.completions;
        int n = p.cq.poll(wcs, RdmaPoller.BATCH);
        p.stats.polls++;
        if (n <= 0) {
            p.stats.idlePolls++;
            if (n < 0) {
                LOG.warn("nvmf: {}: polling the completion queue of {} failed ({})", name, p.device.name(), n);
            }
            return 0;
        }
        p.stats.completions += n;
        for (int i = 0; i < n; i++) {
            long id = wcs.id(i);
            if ((int) (id >>> 28 & 0xF) == RdmaQpair.KIND_SHARED_RECV) {
                sharedReceive(p, (int) id & 0x0FFF_FFFF, wcs.queuePairNumber(i), wcs.status(i), wcs.byteLength(i));
                continue;
            }
            int slot = (int) (id >>> 48);
            int generation = (int) (id >>> 32) & 0xFFFF;
            RdmaQpair q = slot < slots.length ? slots[slot] : null;
            if (q == null || q.generation() != generation) {
                continue; // a qpair destroyed at its close bound: its late completions are dropped
            }
            q.completion((int) (id >>> 28) & 0xF, (int) id & 0x0FFF_FFFF, wcs.status(i), wcs.byteLength(i));
        }
        return n;
    }

    /** A capsule in a shared receive queue's buffer: to the qpair its queue pair number names, or straight back. */
    private void sharedReceive(RdmaPoller p, int buffer, int queuePairNumber, int status, int bytes) {
        p.sharedReceives.received(buffer);
        RdmaQpair q = p.byQpNum.get(queuePairNumber);
        if (q == null) {
            repostShared(p, buffer); // for a qpair already destroyed: the buffer is the group's, never lost
            return;
        }
        q.completion(RdmaQpair.KIND_SHARED_RECV, buffer, status, bytes);
    }

    /**
     * Interrupt mode: arms every completion queue and polls once more (a completion between the last poll and the
     * arming raises no event); with nothing there the poller pauses until a completion channel wakes it.
     */
    private int arm() {
        int work = 0;
        for (int i = 0; i < pollers.size(); i++) { // indexed: no iterator per idle poll
            pollers.get(i).cq.requestNotify(false);
        }
        inPoll = true;
        try {
            for (int i = 0; i < pollers.size(); i++) {
                work += poll(pollers.get(i));
            }
        } finally {
            inPoll = false;
        }
        flushAll();
        if (work == 0) {
            completionPoller.pause();
        }
        return work;
    }

    private int completionEvents(RdmaPoller p) {
        int n = 0;
        while (p.channel.nextEvent() > 0) {
            n++;
        }
        completionPoller.resume();
        return n;
    }

    // ---- batching work requests ----

    /** {@code q} queued work requests: posted at the end of this poll, or of this message turn. */
    void flushLater(RdmaQpair q) {
        toFlush.add(q);
        flushAtTheEnd();
    }

    /**
     * Shared receive queue buffer {@code buffer} of {@code p} is done with: posted again with the others at the end
     * of this poll or message turn (at once with {@code no_wr_batching}); only counted back once {@code p} closed.
     */
    void repostShared(RdmaPoller p, int buffer) {
        p.sharedReceives.repost(buffer);
        if (!p.sharedReceives.pending()) {
            return;
        }
        if (batching) {
            flushAtTheEnd();
        } else {
            p.flushSharedReceives();
        }
    }

    private void flushAtTheEnd() {
        if (!inPoll && !flushScheduled) {
            flushScheduled = true;
            thread.send(FLUSH, this);
        }
    }

    private void flushFromMessage() {
        flushScheduled = false;
        flushAll();
    }

    private void flushAll() {
        for (int i = 0; i < toFlush.size(); i++) {
            toFlush.get(i).flush();
        }
        toFlush.clear();
        for (int i = 0; i < pollers.size(); i++) {
            RdmaPoller p = pollers.get(i);
            if (p.sharedReceives != null && p.sharedReceives.pending()) {
                p.flushSharedReceives();
            }
        }
    }

    // ---- data buffers and data work requests (rule R6) ----

    /** {@code r} needs a data buffer and a data work request: it gets them now or waits its turn. */
    void needData(RdmaRequest r) {
        waitingForData.submit(r);
        if (!waitingForData.isEmpty()) {
            retryPoller.resume();
        }
    }

    /**
     * {@code r}'s data buffers (one of its length, or above {@link #dataBufferSize} several, the last cut) and data
     * work requests, all or none; false when the pools or iobuf cannot give them now.
     */
    private boolean takeData(RdmaRequest r) {
        if (r.state != RdmaRequest.State.NEED_DATA) {
            return true; // its qpair let it go while it waited
        }
        long length = r.sgl.length();
        int n = DataPieces.buffers(length, dataBufferSize);
        int wrs = r.qpair.dataWorkRequests(n);
        if (!DataPieces.fits(buffersInUse, n, bufferLimit) || !DataPieces.fits(workRequestsInUse, wrs,
                workRequestLimit)) {
            return false;
        }
        long size = n == 1 ? length : dataBufferSize;
        for (int i = 0; i < n; i++) {
            MemorySegment b = buffers.get(size, null);
            if (b == null) {
                while (--i >= 0) { // all or none: a part held while waiting could starve every other command
                    buffers.put(r.buffers[i]);
                    r.buffers[i] = null;
                    r.pieces[i] = null;
                }
                return false;
            }
            r.buffers[i] = b;
            r.pieces[i] = views.exact(b, DataPieces.pieceLength(length, dataBufferSize, i));
        }
        buffersInUse += n;
        workRequestsInUse += wrs;
        r.bufferCount = n;
        r.data = n == 1 ? r.pieces[0] : null;
        r.dataWrs = wrs;
        r.qpair.dataReady(r);
        return true;
    }

    /** Gives back what {@code r} held and lets waiting requests have it. */
    void releaseData(RdmaRequest r) {
        boolean freed = r.bufferCount > 0 || r.dataWrs > 0;
        for (int i = 0; i < r.bufferCount; i++) {
            buffers.put(r.buffers[i]);
            r.buffers[i] = null;
            r.pieces[i] = null;
        }
        buffersInUse -= r.bufferCount;
        r.bufferCount = 0;
        r.data = null;
        workRequestsInUse -= r.dataWrs;
        r.dataWrs = 0;
        if (freed && !waitingForData.isEmpty()) {
            waitingForData.redrive();
        }
    }

    /** A closing qpair's requests leave the queue. */
    void dropWaiting(RdmaQpair q) {
        List<RdmaRequest> gone = new ArrayList<>();
        waitingForData.removeIf(r -> {
            if (r.qpair == q) {
                gone.add(r);
                return true;
            }
            return false;
        });
        gone.forEach(q::dropped);
    }

    private int retryPoll() {
        if (waitingForData.isEmpty()) {
            retryPoller.pause();
            return PollerFn.IDLE;
        }
        return waitingForData.redrive() > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    private int checkClosing() {
        long now = clock().nanoTime();
        int n = 0;
        for (int i = qpairs.size() - 1; i >= 0; i--) { // backwards: a destroyed qpair leaves the list
            RdmaQpair q = qpairs.get(i);
            if (q.closing() && now - q.closingSince() > RdmaQpair.CLOSE_BOUND_NANOS) {
                q.closeBoundExpired();
                n++;
            } else if (q.waitingOnlyForLastWqe() && now - q.closingSince() > RdmaQpair.LAST_WQE_BOUND_NANOS) {
                q.lastWqeBoundExpired();
                n++;
            }
        }
        return n > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    // ---- the end ----

    /**
     * Closes every qpair, waits until they are destroyed (at most {@link #STOP_BOUND_NANOS}), then frees the
     * completion queues, the CM channel and the iobuf channel; {@code done} on the group's thread.
     */
    @Override
    public void stop(Runnable done) {
        stopping = true;
        if (completionPoller == null) { // never started
            done.run();
            return;
        }
        for (RdmaQpair q : List.copyOf(qpairs)) {
            q.close("transport shut down");
        }
        long deadline = clock().nanoTime() + STOP_BOUND_NANOS;
        Poller[] wait = new Poller[1];
        wait[0] = thread.registerPoller("nvmf_rdma_stop", () -> {
            if (!qpairs.isEmpty() && clock().nanoTime() < deadline) {
                return PollerFn.IDLE;
            }
            for (RdmaQpair q : List.copyOf(qpairs)) {
                q.closeBoundExpired();
            }
            wait[0].unregister();
            release();
            done.run();
            return PollerFn.BUSY;
        }, 1_000);
    }

    private void release() {
        completionPoller.unregister();
        retryPoller.unregister();
        closePoller.unregister();
        completionWatches.forEach(FdWatch::cancel);
        cmWatch.cancel();
        for (RdmaPoller p : pollers) {
            p.close();
        }
        pollers.clear();
        cmChannel.close();
        acceptParameters.close();
        event.close();
        if (buffersInUse == 0) {
            buffers.close(); // with buffers out it cannot: they would come back to a closed channel
        } else {
            LOG.error("nvmf: {} stopped with {} data buffer(s) still held by commands that did not come back", name,
                    buffersInUse);
        }
    }
}
