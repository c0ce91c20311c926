package io.keel.nvmf.tcp;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufChannel;
import io.keel.core.mem.NativeArena;
import io.keel.core.sys.GatherSend;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.nvmf.transport.BufferViews;
import io.keel.nvmf.transport.QpairCommands;
import io.keel.nvmf.transport.Transport;
import io.keel.nvmf.transport.TransportPollGroup;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poll group of the TCP transport (SPDK's {@code nvmf_tgt_poll_group_NNN}): a lightweight thread on one
 * reactor that owns its qpairs (rule R1), their sockets and a bounded share of the data buffers. Requests that
 * find no buffer wait in their connection's pending queue; the queues are re-driven whenever this group releases
 * a buffer and by a timed poller while anything waits (rule R6, scenario S3). Everything here runs on
 * {@link #thread()} except construction.
 *
 * <p>What the group holds and releases itself (rule R10): one receive buffer that its qpairs read into in turn
 * (every byte read is consumed before the next read), the {@link QueueMemory} its connections take their request
 * tables and send buffers from, and its iobuf channel. {@link #stop} closes the qpairs, waits (bounded) until
 * the commands they left in the bdev layer or on the application thread have come back, then frees all three.
 */
final class TcpPollGroup implements BufferProvider, TransportPollGroup {
    /** How often waiting requests are retried while some wait (buffers freed on other threads come back here). */
    static final long RETRY_PERIOD_MICROS = 100;
    /** A connection must have sent its ICReq and had its Connect answered this soon after it was accepted. */
    static final long CONNECT_TIMEOUT_NANOS = 30_000_000_000L;
    static final long CONNECT_CHECK_MICROS = 500_000;
    /** Receive buffer: a few of the largest PDUs per read call. */
    static final int RECEIVE_BUFFER = 512 * 1024;
    /**
     * Held output is written at the held-output poller's next run once this many bytes wait: 64 completions
     * without data (SPDK writes at most 64 iovecs at once); a read's data counts too, so held reads always go then.
     */
    static final int HELD_OUTPUT_BYTES = 64 * 24;
    /**
     * ...or, for read data, at once when a completion brings this many data PDUs (48 KiB of 4 KiB reads): holding a
     * whole burst of reads made the host wait for its last completion before it could read the first (4 KiB randread
     * at QD128 under SPDK's perf: ~0.5 M IOPS held to the burst's end, 0.6-1.1 M written every 10-12 PDUs, 0.5 M
     * every 24, and a byte bound of the same size halved 128 KiB reads, each PDU then written on its own).
     */
    static final int HELD_DATA_PDUS = 12;
    /** ...or once it has waited this many turns of the group's thread with the host still sending. */
    static final int HELD_OUTPUT_TURNS = 4;
    /** A lone I/O queue read every turn goes back to epoll once the host has sent nothing for this long. */
    static final long LONE_QUEUE_QUIET_NANOS = 1_000_000;
    /** How long {@link #stop} waits for commands still executing to come back before it frees anyway. */
    static final long STOP_BOUND_NANOS = 5_000_000_000L;
    static final long STOP_CHECK_MICROS = 1_000;
    /** How often kept connection memory nobody reuses is trimmed ({@link QueueMemory#trim}). */
    static final long TRIM_PERIOD_MICROS = 1_000_000;
    private static final Logger LOG = LoggerFactory.getLogger(TcpPollGroup.class);

    private final String name;
    private final KeelThread thread;
    private final IoBuf iobuf;
    private final int bufferLimit;
    private final int smallCache;
    private final int largeCache;
    private final List<TcpQpair> qpairs = new ArrayList<>();
    /** Per pool buffer, its exact-length view last handed out. */
    private final BufferViews views = new BufferViews();
    private final QueueMemory memory;
    private NativeArena receiveArena; // global scope: NIO's reads and the sends' downcalls acquire no session
    private ByteBuffer receiveBuffer;
    /** The iovecs of one connection's flush (the kernel's IOV_MAX): flushes run one at a time on this thread. */
    private GatherSend gatherSend;
    private static final int GATHER_PIECES = 1024;
    private MemorySegment receiveSegment;
    private IoBufChannel buffers;
    private Poller retryPoller;
    private Poller connectTimeoutPoller;
    private Poller trimPoller;
    /** The group's only I/O queue on a poll-mode reactor ({@link #ioQueueBound}), or null. */
    private TcpQpair loneQueue;
    private long loneQueueLastBytes;
    private Poller loneQueuePoller;
    /** Queues whose completions wait to be written together ({@link #holdOutput}). */
    private final List<TcpQpair> heldOutput = new ArrayList<>();
    private Poller heldOutputPoller;
    private long socketReadsSeen;
    private final long connectTimeoutNanos;
    private int buffersInUse;
    private boolean retrying;

    // statistics (nvmf_get_stats), owner thread only
    long adminQpairs;
    long ioQpairs;
    long completedNvmeIo;
    long bufferWaits;
    long socketReads;
    long socketWrites;
    int peakBuffersInUse;

    TcpPollGroup(String name, KeelThread thread, IoBuf iobuf, int bufferLimit, int smallCache, int largeCache,
            long connectTimeoutNanos, QueueMemory memory) {
        this.connectTimeoutNanos = connectTimeoutNanos;
        this.memory = memory;
        this.name = name;
        this.thread = thread;
        this.iobuf = iobuf;
        this.bufferLimit = bufferLimit;
        this.smallCache = smallCache;
        this.largeCache = largeCache;
    }

    String name() {
        return name;
    }

    @Override
    public KeelThread thread() {
        return thread;
    }

    @Override
    public Transport.PollGroupStats stats() {
        return TcpPollGroupStats.of(this).asPollGroupStats();
    }

    /**
     * Opens this group's receive buffer, iobuf channel, retry poller and connect-timeout poller (on the group's
     * thread).
     */
    void start() {
        receiveArena = new NativeArena();
        receiveSegment = receiveArena.allocate(RECEIVE_BUFFER, 64);
        receiveBuffer = receiveSegment.asByteBuffer(); // one buffer per read call: NIO allocates nothing for it
        gatherSend = new GatherSend(receiveArena, GATHER_PIECES);
        buffers = iobuf.channel("nvmf_TCP", smallCache, largeCache);
        retryPoller = thread.registerPoller("nvmf_tcp_retry_pending", this::retryPoll, RETRY_PERIOD_MICROS);
        retryPoller.pause();
        connectTimeoutPoller = thread.registerPoller("nvmf_tcp_connect_timeout", this::closeStalledConnects,
                CONNECT_CHECK_MICROS);
        heldOutputPoller = thread.registerPoller("nvmf_tcp_held_output", this::writeHeldOutput);
        heldOutputPoller.pause();
        loneQueuePoller = thread.registerPoller("nvmf_tcp_read_lone_queue", this::readLoneQueue);
        loneQueuePoller.pause();
        trimPoller = thread.registerPoller("nvmf_tcp_trim_queue_memory",
                () -> memory.trim() > 0 ? PollerFn.BUSY : PollerFn.IDLE, TRIM_PERIOD_MICROS);
    }

    /**
     * Closes connections that did not finish ICReq and Connect within {@link #connectTimeoutNanos} (rule R5: a
     * peer that opens a socket and says nothing must not hold a qpair forever).
     */
    private int closeStalledConnects() {
        long now = thread.runtime().clock().nanoTime();
        int closed = 0;
        for (int i = qpairs.size() - 1; i >= 0; i--) { // backwards: close removes the qpair from the list
            TcpQpair q = qpairs.get(i);
            if (q.state() != QpairCommands.State.ENABLED && q.state() != QpairCommands.State.CLOSED
                    && now - q.acceptedNanos() > connectTimeoutNanos) {
                q.close("no Connect within " + connectTimeoutNanos / 1_000_000 + " ms");
                closed++;
            }
        }
        return closed > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    /**
     * Closes every qpair, waits until the commands they left executing have come back (their data buffers and
     * request tables with them) — at most {@link #STOP_BOUND_NANOS}, then it says what was left and goes on —
     * and frees the group's memory; {@code done} runs on the group's thread, which may exit after.
     */
    @Override
    public void stop(Runnable done) {
        for (TcpQpair q : List.copyOf(qpairs)) {
            q.close("transport shut down");
        }
        if (retryPoller == null) { // never started
            done.run();
            return;
        }
        retryPoller.unregister();
        connectTimeoutPoller.unregister();
        trimPoller.unregister();
        heldOutputPoller.unregister();
        loneQueuePoller.unregister();
        loneQueuePoller = null;
        heldOutput.clear(); // closed: nothing more is written
        long deadline = thread.runtime().clock().nanoTime() + STOP_BOUND_NANOS;
        Poller[] wait = new Poller[1];
        PollerFn check = () -> {
            boolean drained = buffersInUse == 0 && memory.blocksInUse() == 0;
            if (!drained && thread.runtime().clock().nanoTime() < deadline) {
                return PollerFn.IDLE;
            }
            if (!drained) {
                LOG.error("nvmf: {} stopped with {} data buffer(s) and {} bytes of request tables still held by "
                        + "commands that did not come back in {} ms; freeing the rest", name, buffersInUse,
                        memory.inUse(), STOP_BOUND_NANOS / 1_000_000);
            }
            wait[0].unregister();
            release(drained);
            done.run();
            return PollerFn.BUSY;
        };
        wait[0] = thread.registerPoller("nvmf_tcp_stop", check, STOP_CHECK_MICROS);
    }

    private void release(boolean drained) {
        if (drained) {
            buffers.close(); // with buffers out it cannot: they would come back to a closed channel
        }
        memory.close();
        receiveArena.close();
    }

    /**
     * Holds {@code q}'s output until the next turn of this thread in which the host sent nothing (no read on
     * the group's sockets brought bytes since the turn before), in which {@link #HELD_OUTPUT_BYTES} wait, or after
     * {@link #HELD_OUTPUT_TURNS} turns: the completions of one burst of commands leave in one write, as the host
     * sent them. A lone command is never held ({@link TcpQpair#outputReady}), so queue depth one pays nothing.
     */
    void holdOutput(TcpQpair q) {
        if (q.inHeldOutputList) {
            return; // listed since an earlier hold that its own event wrote
        }
        if (heldOutput.isEmpty()) {
            heldOutputPoller.resume();
        }
        q.inHeldOutputList = true;
        heldOutput.add(q);
    }

    private int writeHeldOutput() {
        boolean hostQuiet = socketReads == socketReadsSeen;
        socketReadsSeen = socketReads;
        int written = 0;
        for (int i = heldOutput.size() - 1; i >= 0; i--) { // backwards: entries are removed
            TcpQpair q = heldOutput.get(i);
            if (!q.outputHeld()) {
                heldOutput.remove(i); // an event of its own wrote it meanwhile
                q.inHeldOutputList = false;
            } else if (hostQuiet || q.heldTurn() >= HELD_OUTPUT_TURNS || q.pendingOutput() >= HELD_OUTPUT_BYTES) {
                heldOutput.remove(i);
                q.inHeldOutputList = false;
                q.writeHeldOutput();
                written++;
            }
        }
        if (heldOutput.isEmpty()) {
            heldOutputPoller.pause();
        }
        return written > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    /**
     * A queue was bound as an I/O queue. On a poll-mode reactor, a group with one I/O queue reads its socket every
     * turn while the host is sending, instead of asking epoll: an empty read costs what the epoll_wait it replaces
     * did, and when the host has sent something the read finds it without that epoll_wait first (QD1 randread under
     * SPDK's perf: one system call fewer on the target's side of every round trip, 11-18 % more IOPS). With more
     * I/O queues epoll tells which to read (one look for all); admin queues, quiet but for keep-alives, and a lone
     * queue quiet for {@link #LONE_QUEUE_QUIET_NANOS} go through epoll too.
     */
    void ioQueueBound() {
        chooseLoneQueue();
    }

    private void chooseLoneQueue() {
        if (loneQueuePoller == null) {
            return; // not started, or stopped
        }
        TcpQpair lone = thread.runtime().pollsContinuously() ? onlyIoQueue() : null;
        if (lone == loneQueue) {
            return;
        }
        if (loneQueue != null) {
            readLoneQueueThroughEpoll();
        }
        loneQueue = lone;
        if (lone != null) {
            readLoneQueueEveryTurn();
        }
    }

    /** The group's one bound I/O queue (a qpair's qid is set once a Connect bound it), or null: none or several. */
    private TcpQpair onlyIoQueue() {
        TcpQpair only = null;
        for (int i = 0; i < qpairs.size(); i++) {
            if (qpairs.get(i).qid() > 0) {
                if (only != null) {
                    return null;
                }
                only = qpairs.get(i);
            }
        }
        return only;
    }

    /** {@code q} read bytes that epoll told of: the lone queue, quiet until now, is read every turn again. */
    void hostSent(TcpQpair q) {
        if (q == loneQueue && !q.readByGroup()) {
            readLoneQueueEveryTurn();
        }
    }

    private void readLoneQueueEveryTurn() {
        loneQueue.readByGroup(true);
        loneQueueLastBytes = thread.runtime().clock().nanoTime();
        loneQueuePoller.resume();
    }

    private void readLoneQueueThroughEpoll() {
        loneQueue.readByGroup(false);
        loneQueuePoller.pause();
    }

    private int readLoneQueue() {
        boolean got = loneQueue.receiveFromGroup();
        if (loneQueue == null || !loneQueue.readByGroup()) {
            return got ? PollerFn.BUSY : PollerFn.IDLE; // the read closed it, or a second queue was bound meanwhile
        }
        long now = thread.runtime().clock().nanoTime();
        if (got) {
            loneQueueLastBytes = now;
            return PollerFn.BUSY;
        }
        if (now - loneQueueLastBytes > LONE_QUEUE_QUIET_NANOS) {
            readLoneQueueThroughEpoll(); // an idle reactor asks epoll about quiet fds only every few tens of µs
        }
        return PollerFn.IDLE;
    }

    QueueMemory memory() {
        return memory;
    }

    GatherSend gatherSend() {
        return gatherSend;
    }

    ByteBuffer receiveBuffer() {
        return receiveBuffer;
    }

    MemorySegment receiveSegment() {
        return receiveSegment;
    }

    void add(TcpQpair q) {
        qpairs.add(q);
    }

    void remove(TcpQpair q) {
        qpairs.remove(q);
        if (q.qid() > 0) {
            chooseLoneQueue();
        }
    }

    List<TcpQpair> qpairs() {
        return qpairs;
    }

    int buffersInUse() {
        return buffersInUse;
    }

    int bufferLimit() {
        return bufferLimit;
    }

    // ---- data buffers (BufferProvider) ----

    @Override
    public MemorySegment acquire(long length) {
        if (buffersInUse >= bufferLimit) {
            return waited();
        }
        MemorySegment b = buffers.get(length, null);
        if (b == null) {
            return waited();
        }
        buffersInUse++;
        peakBuffersInUse = Math.max(peakBuffersInUse, buffersInUse);
        return views.exact(b, length);
    }

    private MemorySegment waited() {
        bufferWaits++;
        retryPoller.resume();
        return null;
    }

    @Override
    public void release(MemorySegment buffer) {
        buffers.put(buffer);
        buffersInUse--;
        retryPending();
    }

    /** Gives every qpair's waiting requests a try, oldest qpair first. */
    void retryPending() {
        if (retrying) {
            return; // a release inside a retry: the loop in progress goes on
        }
        retrying = true;
        try {
            for (int i = 0; i < qpairs.size(); i++) {
                qpairs.get(i).retryPending();
            }
        } finally {
            retrying = false;
        }
    }

    /** Pending requests of all qpairs (SPDK's pending_data_buffer). */
    int pendingBuffers() {
        int n = 0;
        for (TcpQpair q : qpairs) {
            n += q.pendingBuffers();
        }
        return n;
    }

    private int retryPoll() {
        int before = pendingBuffers();
        if (before == 0) {
            retryPoller.pause();
            return PollerFn.IDLE;
        }
        retryPending();
        return pendingBuffers() < before ? PollerFn.BUSY : PollerFn.IDLE;
    }
}
