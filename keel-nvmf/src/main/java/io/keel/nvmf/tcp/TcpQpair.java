package io.keel.nvmf.tcp;

import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ControllerManager;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.ctrlr.QueueActivity;
import io.keel.nvmf.io.IoCommandExecutor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe/TCP queue pair on its poll group's thread: the socket, the protocol state machine
 * ({@link TcpQpairConnection}) fed from it, and where each command goes — a Connect and every admin command to
 * the controller logic on the application thread ({@link ForwardedCommand}), I/O commands to this queue's
 * {@link IoCommandExecutor} on this thread. Output is gathered in a {@link SendBuffer} and written once per
 * readiness event or, for completions that arrive later, once per message turn.
 *
 * <p>States (rule R5): {@code AWAITING_CONNECT} (ICReq/ICResp, then only a Fabrics Connect is accepted) →
 * {@code CONNECTING} (Connect on the application thread) → {@code ENABLED} (bound to its controller) →
 * {@code CLOSED} (socket closed, controller told; final). {@link #close} is idempotent from any state.
 */
final class TcpQpair implements CommandHandler, ConnectionListener, FdHandler {
    private static final Logger LOG = LoggerFactory.getLogger(TcpQpair.class);
    private static final MessageFn<TcpQpair> FLUSH = TcpQpair::flushFromMessage;
    /** Receive buffer: a few of the largest PDUs per read call. */
    private static final int RECEIVE_BUFFER = 512 * 1024;
    /** Stop reading new commands while this much output waits for the socket (back-pressure). */
    private static final int SEND_BACKLOG_LIMIT = 4 * 1024 * 1024;
    private static final int READS_PER_EVENT = 4;

    enum State { AWAITING_CONNECT, CONNECTING, ENABLED, CLOSED }

    private final TcpTransport transport;
    private final TcpPollGroup group;
    private final SocketChannel socket;
    private final ListenAddress listenAddress;
    private final ListenAddress peerAddress;
    private final TcpQpairConnection connection;
    private final SendBuffer out;
    private final ByteBuffer in = ByteBuffer.allocateDirect(RECEIVE_BUFFER);
    private final MemorySegment inSegment = MemorySegment.ofBuffer(in);
    private final ForwardedCommand[] forwarded;
    private FdWatch watch;
    private int interest;
    private boolean inHandler;
    private boolean flushScheduled;

    private State state = State.AWAITING_CONNECT;
    private long acceptedNanos;
    private int qid = -1;
    private ControllerManager.Binding binding;
    private QueueActivity activity;
    private IoCommandExecutor executor;

    TcpQpair(TcpTransport transport, TcpPollGroup group, SocketChannel socket, ListenAddress listenAddress,
            ListenAddress peerAddress, TcpConnectionConfig config) {
        this.transport = transport;
        this.group = group;
        this.socket = socket;
        this.listenAddress = listenAddress;
        this.peerAddress = peerAddress;
        this.out = new SendBuffer(256 * 1024, SEND_BACKLOG_LIMIT, this::outputReady);
        // the connection's SQE copies and in-capsule buffers live as long as this object (freed by the GC)
        this.connection = new TcpQpairConnection(config, out, this, group, this, Arena.ofAuto());
        this.forwarded = new ForwardedCommand[config.queueDepth()];
        for (int i = 0; i < forwarded.length; i++) {
            forwarded[i] = new ForwardedCommand(this);
        }
    }

    /** Starts watching the socket (on the group's thread). */
    void start() {
        acceptedNanos = transport.clock().nanoTime();
        group.add(this);
        interest = SelectionKey.OP_READ;
        watch = group.thread().watch(socket, interest, this);
    }

    KeelThread thread() {
        return group.thread();
    }

    /** When the poll group took the connection (its connect timeout runs from here). */
    long acceptedNanos() {
        return acceptedNanos;
    }

    TcpPollGroup group() {
        return group;
    }

    State state() {
        return state;
    }

    int qid() {
        return qid;
    }

    ListenAddress listenAddress() {
        return listenAddress;
    }

    ListenAddress peerAddress() {
        return peerAddress;
    }

    int pendingBuffers() {
        return connection.pendingBufferCount();
    }

    int requestsInUse() {
        return connection.requestsInUse();
    }

    int waitingForBdevIo() {
        return executor == null ? 0 : executor.waitingForBdevIo();
    }

    /** I/O commands this live qpair completed (a closed one's count moves into its group's total). */
    long completedIo() {
        return executor == null ? 0 : executor.completed();
    }

    TcpTransport transport() {
        return transport;
    }

    /** The controller of this admin queue (read by the application thread once the queue is bound). */
    Controller adminController() {
        return binding.controller();
    }

    void retryPending() {
        if (connection.pendingBufferCount() > 0) {
            connection.retryPending();
        }
    }

    // ---- socket events ----

    @Override
    public int onReady(int readyOps) {
        inHandler = true;
        try {
            if ((readyOps & SelectionKey.OP_READ) != 0) {
                receive();
            }
            flush();
        } finally {
            inHandler = false;
        }
        return 1;
    }

    private void receive() {
        boolean got = false;
        for (int i = 0; i < READS_PER_EVENT && state != State.CLOSED && !out.backlogged(); i++) {
            int n;
            try {
                n = socket.read(in);
                group.socketReads++;
            } catch (IOException e) {
                close("receive failed: " + e.getMessage());
                return;
            }
            if (n < 0) {
                close("host closed the connection");
                return;
            }
            if (n == 0) {
                break;
            }
            got = true;
            connection.onBytes(inSegment, 0, n);
            in.clear();
            if (n < RECEIVE_BUFFER) {
                break;
            }
        }
        if (got && activity != null) {
            activity.touch(transport.clock().nanoTime());
        }
    }

    /** Output was committed: write it at the end of this event, or in a message turn if none is running. */
    private void outputReady() {
        if (!inHandler && !flushScheduled && state != State.CLOSED) {
            flushScheduled = true;
            group.thread().send(FLUSH, this);
        }
    }

    private void flushFromMessage() {
        flushScheduled = false;
        flush();
    }

    private void flush() {
        if (state == State.CLOSED) {
            return;
        }
        long left;
        try {
            if (out.pending() > 0) {
                group.socketWrites++;
            }
            left = out.flush(socket);
        } catch (IOException e) {
            close("send failed: " + e.getMessage());
            return;
        }
        int want = left > 0 ? SelectionKey.OP_WRITE : 0;
        if (!out.backlogged()) {
            want |= SelectionKey.OP_READ;
        }
        if (want != interest) {
            interest = want;
            watch.interest(want);
        }
    }

    // ---- commands ----

    @Override
    public void command(TcpRequest r) {
        Sqe sqe = r.sqe();
        boolean fabrics = sqe.opcode() == Opcode.FABRICS;
        switch (state) {
            case AWAITING_CONNECT -> {
                if (fabrics && sqe.fabrics().fctype() == Opcode.Fabrics.CONNECT) {
                    state = State.CONNECTING;
                    transport.connect(forwarded[r.index()].bind(r, true));
                } else {
                    r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0);
                }
            }
            case CONNECTING -> r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0);
            case ENABLED -> {
                if (qid == 0) {
                    transport.adminCommand(forwarded[r.index()].bind(r, false));
                } else if (fabrics) {
                    ioQueueFabrics(r);
                } else {
                    executor.execute(r);
                }
            }
            case CLOSED -> r.complete(Status.field(Status.ABORTED_SQ_DELETION, false), 0);
            default -> throw new IllegalStateException(state.name());
        }
    }

    /** Fabrics commands on an I/O queue: a second Connect is a sequence error, properties live on the admin queue. */
    private void ioQueueFabrics(TcpRequest r) {
        int fctype = r.sqe().fabrics().fctype();
        if (fctype == Opcode.Fabrics.DISCONNECT) {
            r.complete(Status.field(Status.SUCCESS, false), 0);
            close("host sent Disconnect");
        } else if (fctype == Opcode.Fabrics.CONNECT) {
            r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0);
        } else {
            r.complete(Status.field(Status.INVALID_OPCODE, true), 0);
        }
    }

    /** A forwarded command's answer arrived back on this thread. */
    void forwardedDone(ForwardedCommand f, TcpRequest r, int status, int dw0, int dw1) {
        if (f.binding != null) {
            connection.sqEntries(r.sqe().connect().sqsize() + 1);
            bound(f);
        } else if (state == State.CONNECTING) {
            state = State.AWAITING_CONNECT; // the Connect failed: the host may try another one
        }
        if (r.state() == TcpRequest.State.EXECUTING) {
            r.complete(status, dw0, dw1);
        }
    }

    private void bound(ForwardedCommand f) {
        ControllerManager.Binding b = f.binding;
        if (state != State.CONNECTING) {
            transport.queueGone(this, b); // closed while the Connect ran: undo it
            return;
        }
        binding = b;
        qid = b.qid();
        activity = b.activity();
        connection.sqid(qid);
        if (qid == 0) {
            group.adminQpairs++;
        } else {
            group.ioQpairs++;
            executor = new IoCommandExecutor(f.namespaces, connection.config().queueDepth());
        }
        state = State.ENABLED;
    }

    /**
     * The namespaces of this I/O queue's subsystem changed (sent by the application thread): {@code drained}
     * runs here once no command is in flight on a namespace that left the table.
     */
    void namespacesChanged(Namespace[] table, Runnable drained) {
        if (executor != null && state == State.ENABLED) {
            executor.updateNamespaces(table, drained);
        } else {
            drained.run();
        }
    }

    // ---- the end ----

    @Override
    public void ended(TcpQpairConnection c, TcpQpairConnection.State end, int fes, String reason) {
        if (end == TcpQpairConnection.State.TERMINATED) {
            LOG.warn("nvmf: qpair {} from {}:{}: {} (FES {}); connection terminated", qid, peerAddress.traddr(),
                    peerAddress.trsvcid(), reason, fes);
            flush(); // the C2HTermReq
        }
        close(reason);
    }

    /** Closes the socket and tells the controller the queue is gone. Idempotent; on the group's thread. */
    void close(String reason) {
        if (state == State.CLOSED) {
            return;
        }
        State was = state;
        state = State.CLOSED;
        LOG.debug("nvmf: qpair {} from {}:{} closed: {}", qid, peerAddress.traddr(), peerAddress.trsvcid(), reason);
        connection.close();
        out.discard(); // referenced data buffers go back to the pool unsent
        if (watch != null) {
            watch.cancel();
        }
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("nvmf: closing a qpair socket: {}", e.getMessage());
        }
        if (executor != null) {
            executor.close();
            group.completedNvmeIo += executor.completed();
        }
        group.remove(this);
        if (was == State.ENABLED) {
            transport.queueGone(this, binding);
        }
    }

    @Override
    public String toString() {
        return "TcpQpair[qid " + qid + ", " + state + ", " + peerAddress.traddr() + ":" + peerAddress.trsvcid() + "]";
    }
}
