package io.keel.nvme.host;

import io.keel.core.mem.NativeArena;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.time.Clock;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe-oF queue pair of the host, owned by the thread of its {@link HostPollGroup} (rule R1): the part
 * every transport shares. It keeps the bounded request pool (command ID = request index), the queue depth and
 * the pending list beyond it (rule R6), the Fabrics Connect that turns a transport connection into a queue, the
 * state, and ending every outstanding command with {@link HostStatus#ABORTED_SQ_DELETION} when the queue goes
 * away. A transport ({@code TcpHostQpair}) frames commands and moves bytes.
 *
 * <p>States (rule R5): DISCONNECTED → {@link #connect} → CONNECTING (transport link, then Fabrics Connect;
 * bounded by the config's connect timeout) → CONNECTED → DISCONNECTING (asked for, or a transport error, a
 * terminated connection, a refused Connect) → DISCONNECTED, which may connect again. A transport error moves the
 * state once; {@link #disconnect} of a disconnected queue completes at once; the transport's close is bounded.
 * A loss nobody asked for is told to the {@link Listener} by a message on the owner thread, dropped when the
 * queue has connected again since.
 *
 * <p>Every method is for the owner thread only. Submitting and completing allocate nothing.
 */
public abstract class HostQpair {
    /** Hears about a queue's connection on its owner thread. */
    public interface Listener {
        /** The Fabrics Connect succeeded; commands flow. */
        void connected(HostQpair q);

        /** The queue is DISCONNECTED without anyone asking (connect failed, or it was lost); commands ended. */
        void lost(HostQpair q, String reason);
    }

    public enum State { DISCONNECTED, CONNECTING, CONNECTED, DISCONNECTING }

    /**
     * Hears, on the owner thread, that command {@code cid} has been on the wire longer than the qpair's timeout:
     * {@code expiries} is 1 the first time and grows by one each further timeout period it stays outstanding.
     */
    @FunctionalInterface
    public interface TimeoutHandler {
        void timedOut(HostQpair q, int cid, int opcode, int expiries);
    }

    private static final Logger LOG = LoggerFactory.getLogger(HostQpair.class);
    /** How long a transport may take to close before the queue is declared disconnected anyway. */
    static final long DISCONNECT_BOUND_MS = 5_000;
    private static final int ENXIO = 6;

    protected final HostPollGroup group;
    protected final KeelThread thread;
    protected final Clock clock;
    private QpairConfig config;
    private final Listener listener;
    private final NativeArena arena = new NativeArena();
    private final MemorySegment connectData;
    private final HostRequest[] requests;
    private HostRequest free;
    private HostRequest pendingHead;
    private HostRequest pendingTail;
    private int inFlight;
    private int pendingCount;

    private State state = State.DISCONNECTED;
    private long generation;
    private boolean lossRequested;
    private String reason = "never connected";
    private int cntlid = -1;
    private int inCapsuleBytes;
    private long maxTransferBytes;
    private Poller timer;
    private long timeoutNanos;
    private TimeoutHandler timeoutHandler;
    private Poller timeoutScan;
    private final List<Runnable> disconnectWaiters = new ArrayList<>(1);
    private boolean closed;

    protected HostQpair(HostPollGroup group, QpairConfig config, Listener listener) {
        this.group = group;
        this.thread = group.thread();
        this.clock = thread.runtime().clock();
        this.config = config;
        this.listener = listener;
        this.connectData = arena.allocate(ConnectData.SIZE, 8);
        MemorySegment sqes = arena.allocate((long) Sqe.SIZE * config.requests(), 64);
        requests = new HostRequest[config.requests()];
        for (int i = requests.length - 1; i >= 0; i--) {
            requests[i] = new HostRequest(i, sqes.asSlice((long) i * Sqe.SIZE, Sqe.SIZE));
            requests[i].next = free;
            free = requests[i];
        }
        group.added();
    }

    // ---- for users ----

    public final int qid() {
        return config.qid();
    }

    public final State state() {
        return state;
    }

    public final QpairConfig config() {
        return config;
    }

    /** Why the queue last left CONNECTED or failed to get there. */
    public final String reason() {
        return reason;
    }

    /** The controller ID the Connect answered (admin queue) or used (I/O queue); -1 before. */
    public final int cntlid() {
        return cntlid;
    }

    public final HostPollGroup group() {
        return group;
    }

    /**
     * Largest write data sent inside an I/O command's capsule (from the controller's IOCCSZ); larger writes wait
     * for the controller to ask for their data. Fabrics and admin commands always go in the capsule.
     */
    public final void inCapsuleBytes(int bytes) {
        inCapsuleBytes = bytes;
    }

    public final int inCapsuleBytes() {
        return inCapsuleBytes;
    }

    /**
     * The controller's largest transfer (MDTS in bytes; 0: no limit), for transports that size staging memory by
     * it. Set before connecting.
     */
    public final void maxTransferBytes(long bytes) {
        maxTransferBytes = bytes;
    }

    public final long maxTransferBytes() {
        return maxTransferBytes;
    }

    /** Commands on the wire now. */
    public final int inFlight() {
        return inFlight;
    }

    /** Commands waiting for a slot or for send room. */
    public final int pending() {
        return pendingCount;
    }

    /**
     * Starts connecting (from DISCONNECTED; the Connect uses {@code cntlid} when the config's is stale after a
     * controller reset, or -1 to keep it). The listener hears how it went.
     */
    public final void connect(int newCntlid) {
        if (closed) {
            throw new IllegalStateException("qpair " + qid() + " is closed");
        }
        if (state != State.DISCONNECTED) {
            throw new IllegalStateException("qpair " + qid() + " is " + state + ", not DISCONNECTED");
        }
        if (newCntlid >= 0) {
            config = config.withCntlid(newCntlid);
        }
        generation++;
        state = State.CONNECTING;
        lossRequested = false;
        reason = "connecting";
        armTimer(config.connectTimeoutMs(), "connect");
        startConnect();
    }

    /** Takes a request to fill, or null when the pool is spent (the caller waits for a completion). */
    public final HostRequest allocate() {
        HostRequest r = free;
        if (r == null) {
            return null;
        }
        free = r.next;
        r.reset();
        r.allocated = true;
        return r;
    }

    /** Gives back a request that was not submitted. */
    public final void free(HostRequest r) {
        release(r);
    }

    /**
     * Sends {@code r} (or queues it behind the depth, or until the Connect in progress succeeds); {@code cb} hears
     * the end, never from inside this call. Returns 0, or -ENXIO with the request given back when the queue is
     * not connected or connecting.
     */
    public final int submit(HostRequest r, HostCompletion cb, Object arg) {
        if (state != State.CONNECTED && state != State.CONNECTING) {
            release(r);
            return -ENXIO;
        }
        r.callback = cb;
        r.arg = arg;
        group.submitted++;
        if (state == State.CONNECTED && pendingHead == null && inFlight < config.depth() && transmit(r)) {
            return 0;
        }
        group.queued++;
        r.next = null;
        if (pendingTail == null) {
            pendingHead = r;
        } else {
            pendingTail.next = r;
        }
        pendingTail = r;
        pendingCount++;
        return 0;
    }

    /**
     * Disconnects (the transport closes; every command ends aborted) and runs {@code done} once DISCONNECTED: at
     * once when it already is, after the running close when one runs. The listener is not told.
     */
    public final void disconnect(String why, Runnable done) {
        switch (state) {
            case DISCONNECTED -> done.run();
            case DISCONNECTING -> {
                lossRequested = true;
                disconnectWaiters.add(done);
            }
            default -> {
                disconnectWaiters.add(done);
                beginDisconnect(why, true);
            }
        }
    }

    /**
     * Watches every command (but those marked {@link HostRequest#noTimeout}) for taking longer than {@code nanos}
     * on the wire; {@code handler} hears each one found (0: stop watching). Owner thread.
     */
    public final void commandTimeout(long nanos, TimeoutHandler handler) {
        if (timeoutScan != null) {
            timeoutScan.unregister();
            timeoutScan = null;
        }
        timeoutNanos = nanos;
        timeoutHandler = handler;
        if (nanos > 0) {
            long periodMicros = Math.max(1_000, Math.min(nanos / 4_000, 1_000_000));
            timeoutScan = thread.registerPoller("nvme_qpair_timeouts", this::scanTimeouts, periodMicros);
        }
    }

    private int scanTimeouts() {
        if (inFlight == 0) {
            return 0;
        }
        long now = clock.nanoTime();
        int found = 0;
        for (HostRequest r : requests) {
            if (r.sent && !r.noTimeout) {
                int periods = (int) Math.min((now - r.submittedNanos) / timeoutNanos, Integer.MAX_VALUE);
                if (periods > r.expiries) {
                    r.expiries = periods;
                    found++;
                    timeoutHandler.timedOut(this, r.cid, r.sqe().opcode(), periods);
                }
            }
        }
        return found;
    }

    /** Frees the queue's memory; DISCONNECTED only. Idempotent. */
    public final void close() {
        if (closed) {
            return;
        }
        if (state != State.DISCONNECTED) {
            throw new IllegalStateException("qpair " + qid() + " is " + state + ": disconnect it before closing");
        }
        closed = true;
        if (timeoutScan != null) {
            timeoutScan.unregister();
            timeoutScan = null;
        }
        releaseTransport();
        arena.close();
        group.removed();
    }

    public final boolean closed() {
        return closed;
    }

    // ---- for transports ----

    /** Opens the transport connection; calls {@link #transportReady} or {@link #transportFailed}. */
    protected abstract void startConnect();

    /** Frames {@code r} for the wire; false when there is no send room now (it stays first in line). */
    protected abstract boolean send(HostRequest r);

    /** Closes the transport connection (keeping its memory for a reconnect); calls {@link #transportClosed}. */
    protected abstract void startDisconnect();

    /** Frees the transport's memory (the queue is closing). */
    protected abstract void releaseTransport();

    /** The largest in-capsule data of the Fabrics Connect and admin commands the transport takes. */
    protected final MemorySegment connectData() {
        return connectData;
    }

    /** The transport link is up: send the Fabrics Connect. */
    protected final void transportReady() {
        if (state != State.CONNECTING) {
            return;
        }
        HostRequest r = allocate();
        new ConnectData().wrap(connectData).hostId(config.hostId()).cntlid(config.cntlid()).subnqn(config.subnqn())
                .hostnqn(config.hostNqn());
        Sqe s = r.sqe();
        s.fabrics().init(Opcode.Fabrics.CONNECT, 0);
        s.connect().recfmt(0).qid(config.qid()).sqsize(config.queueSize() - 1).kato(config.kato());
        r.toController(true).segment(connectData, 0, ConnectData.SIZE);
        r.callback = (a, st, res) -> connectDone(st, res);
        if (!transmit(r)) {
            release(r);
            transportFailed("no send room for the Fabrics Connect");
        }
    }

    private void connectDone(int status, long result) {
        if (state != State.CONNECTING) {
            return;
        }
        if (status != 0) {
            transportFailed("Fabrics Connect (qid " + qid() + ") to " + config.subnqn() + " refused: "
                    + HostStatus.describe(status) + " (IATTR/IPO 0x" + Long.toHexString(result) + ")");
            return;
        }
        cntlid = qid() == 0 ? (int) (result & 0xFFFF) : config.cntlid();
        disarmTimer();
        state = State.CONNECTED;
        reason = "connected";
        drainPending();
        listener.connected(this);
    }

    /** The transport failed (socket error, terminated connection, protocol error): the queue goes, once. */
    protected final void transportFailed(String why) {
        if (state == State.CONNECTING || state == State.CONNECTED) {
            beginDisconnect(why, false);
        }
    }

    /** The transport connection is closed (after {@link #startDisconnect}). */
    protected final void transportClosed() {
        if (state != State.DISCONNECTING) {
            return;
        }
        disarmTimer();
        state = State.DISCONNECTED;
        abortAll();
        if (!lossRequested) {
            long gen = generation;
            String why = reason;
            thread.send(() -> {
                if (generation == gen && state == State.DISCONNECTED && !closed) {
                    listener.lost(this, why);
                }
            });
        }
        List<Runnable> waiters = List.copyOf(disconnectWaiters);
        disconnectWaiters.clear();
        waiters.forEach(Runnable::run);
    }

    /**
     * The command {@code cid} ended: its callback runs (after the request went back to the pool). Returns false
     * when no such command is on the wire (the transport treats that as a protocol error).
     */
    protected final boolean complete(int cid, int status, long result) {
        if (cid < 0 || cid >= requests.length || !requests[cid].sent) {
            return false;
        }
        HostRequest r = requests[cid];
        r.sent = false;
        inFlight--;
        group.completions++;
        HostCompletion cb = r.callback;
        Object a = r.arg;
        release(r);
        cb.complete(a, status, result);
        if (pendingHead != null) {
            drainPending();
        }
        return true;
    }

    /** The request on the wire with {@code cid}, or null. */
    protected final HostRequest outstanding(int cid) {
        return cid >= 0 && cid < requests.length && requests[cid].sent ? requests[cid] : null;
    }

    /** Sends what waits, as far as depth and send room allow; transports call it when room frees. */
    protected final void drainPending() {
        while (pendingHead != null && state == State.CONNECTED && inFlight < config.depth()) {
            HostRequest r = pendingHead;
            if (!transmit(r)) {
                return;
            }
            pendingHead = r.next;
            if (pendingHead == null) {
                pendingTail = null;
            }
            pendingCount--;
        }
    }

    // ---- internals ----

    private boolean transmit(HostRequest r) {
        r.sqe().cid(r.cid);
        if (!send(r)) {
            return false;
        }
        if (timeoutNanos > 0) {
            r.submittedNanos = clock.nanoTime();
        }
        r.sent = true;
        inFlight++;
        return true;
    }

    private void release(HostRequest r) {
        if (!r.allocated) {
            throw new IllegalStateException("request " + r.cid + " of qpair " + qid() + " freed twice");
        }
        r.allocated = false;
        r.sent = false;
        r.callback = null;
        r.arg = null;
        r.next = free;
        free = r;
    }

    private void beginDisconnect(String why, boolean requested) {
        disarmTimer();
        state = State.DISCONNECTING;
        lossRequested = requested;
        reason = why;
        if (!requested) {
            LOG.info("nvme host: qpair {} of {} ({}) lost: {}", qid(), config.subnqn(), thread.name(), why);
        }
        startDisconnect();
        if (state == State.DISCONNECTING) { // the transport closes asynchronously: bound it
            armTimer(DISCONNECT_BOUND_MS, "disconnect");
        }
    }

    /** Ends every command on the wire and every pending one with ABORTED - SQ DELETION. */
    private void abortAll() {
        HostRequest list = null;
        for (HostRequest r : requests) {
            if (r.sent) {
                r.sent = false;
                inFlight--;
                r.next = list;
                list = r;
            }
        }
        for (HostRequest r = pendingHead; r != null; ) {
            HostRequest n = r.next;
            r.next = list;
            list = r;
            r = n;
        }
        pendingHead = null;
        pendingTail = null;
        pendingCount = 0;
        while (list != null) {
            HostRequest r = list;
            list = r.next;
            HostCompletion cb = r.callback;
            Object a = r.arg;
            group.completions++;
            release(r);
            cb.complete(a, HostStatus.ABORTED_SQ_DELETION, 0);
        }
    }

    private void armTimer(long ms, String what) {
        disarmTimer();
        long gen = generation;
        timer = thread.registerPoller("nvme_qpair_" + what + "_timeout", () -> {
            disarmTimer();
            if (gen != generation) {
                return 0;
            }
            if (state == State.CONNECTING && what.equals("connect")) {
                transportFailed("connect timed out after " + ms + " ms");
            } else if (state == State.DISCONNECTING && what.equals("disconnect")) {
                LOG.warn("nvme host: qpair {} of {}: transport close took over {} ms; declared disconnected", qid(),
                        config.subnqn(), ms);
                transportClosed();
            }
            return 1;
        }, ms * 1000);
    }

    private void disarmTimer() {
        if (timer != null) {
            timer.unregister();
            timer = null;
        }
    }

    @Override
    public String toString() {
        return "qpair " + qid() + " of " + config.subnqn() + " (" + state + ")";
    }
}
