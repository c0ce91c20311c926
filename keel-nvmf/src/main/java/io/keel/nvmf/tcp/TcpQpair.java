package io.keel.nvmf.tcp;

import io.keel.core.sys.GatherSend;
import io.keel.core.sys.Libc;
import io.keel.core.sys.NioFds;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.io.IoCommandExecutor;
import io.keel.nvmf.transport.ForwardedCommand;
import io.keel.nvmf.transport.QpairCommands;
import io.keel.nvmf.transport.QpairRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVMe/TCP queue pair on its poll group's thread: the socket, the protocol state machine
 * ({@link TcpQpairConnection}) fed from it, and the transport-neutral queue state machine ({@link QpairCommands})
 * that decides where each command goes — a Connect and every admin command to the controller logic on the
 * application thread ({@link ForwardedCommand}, through the {@link QpairRegistry}), I/O commands to this queue's
 * {@link IoCommandExecutor} on this thread. Output is gathered in a {@link SendBuffer} and written once per
 * readiness event or, for completions that arrive later, once per message turn — or, while more commands are in
 * flight, held until the host goes quiet, 64 completions or 12 read-data PDUs wait, or four reactor turns pass
 * (see {@link #outputReady}).
 *
 * <p>States (rule R5): {@link QpairCommands}'s; {@code AWAITING_CONNECT} covers ICReq/ICResp too, {@code CLOSED}
 * means the socket is closed and the controller told. {@link #close} is idempotent from any state.
 *
 * <p>Memory (rule R10): until its Connect succeeds a connection holds a small send buffer and a one-entry
 * request table from its poll group's {@link QueueMemory} (and the group's receive buffer while it reads). A
 * Connect first reserves the request table its SQSIZE asks for — refused with Controller Busy and a log line
 * when the group's queue memory is spent — and the queue runs on it once bound. All of it goes back to the
 * pool when the qpair closes (the table once the last command the bdev layer or the controller holds is done).
 */
final class TcpQpair implements CommandHandler, ConnectionListener, FdHandler, QpairCommands.Queue<TcpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(TcpQpair.class);
    private static final MessageFn<TcpQpair> FLUSH = TcpQpair::flushFromMessage;
    /** The send buffer a connection starts with (ICResp, a Connect's answer, a C2HTermReq fit many times). */
    static final int INITIAL_SEND_BUFFER = 1024;
    /** Stop reading new commands while this much output waits for the socket (back-pressure). */
    private static final int SEND_BACKLOG_LIMIT = 4 * 1024 * 1024;
    private static final int READS_PER_EVENT = 4;

    private final TcpTransport transport;
    private final TcpPollGroup group;
    private final SocketChannel socket;
    private final ListenAddress listenAddress;
    private final ListenAddress peerAddress;
    private final TcpConnectionConfig config;
    private TcpQpairConnection connection;
    private SendBuffer out;
    /** The table a Connect in progress reserved, installed once it succeeds. */
    private RequestTable reserved;
    private FdWatch watch;
    private int interest;
    private boolean inHandler;
    /** Output was committed during the running readiness event: it is written at the event's end. */
    private boolean committedInHandler;
    private boolean flushScheduled;
    private boolean outputHeld;
    /** The group reads the socket every turn ({@link #readByGroup}); epoll watches it for writability only. */
    private boolean readByGroup;
    /**
     * A flush is in progress: the buffers it gives back can let waiting requests go on and commit output, which must
     * not flush this send buffer again from inside its own flush (the early write of read data would, had 13 data
     * PDUs been pending when it began; nothing queues that many outside a handler today, so this only keeps it so).
     */
    private boolean flushing;
    private int heldTurns;
    /** In the poll group's list of held output (the group's to set). */
    boolean inHeldOutputList;

    private final QpairCommands<TcpRequest> commands;
    private long acceptedNanos;
    /** The socket's descriptor, which the send buffer's gathering sends go to (the reactor watches it too). */
    private int fd = -1;
    private final SendBuffer.Sender sender = this::send;

    TcpQpair(TcpTransport transport, TcpPollGroup group, SocketChannel socket, ListenAddress listenAddress,
            ListenAddress peerAddress, TcpConnectionConfig config) {
        this.transport = transport;
        this.group = group;
        this.socket = socket;
        this.listenAddress = listenAddress;
        this.peerAddress = peerAddress;
        this.config = config;
        this.commands = new QpairCommands<>(this, transport.registry());
    }

    /**
     * Takes the connection's first memory and starts watching the socket (on the group's thread); a group whose
     * queue memory is spent closes the connection at once, with a log line.
     */
    void start() {
        QueueMemory memory = group.memory();
        QueueMemory.Block sendBlock = memory.take(INITIAL_SEND_BUFFER, false);
        RequestTable first = sendBlock == null ? null : RequestTable.take(memory, 1, ConnectData.SIZE);
        if (first == null) {
            if (sendBlock != null) {
                memory.give(sendBlock);
            }
            LOG.info("nvmf: connection from {}:{} refused: {} queue memory spent ({} of {} bytes in use)",
                    peerAddress.traddr(), peerAddress.trsvcid(), group.name(), memory.inUse(), memory.limit());
            commands.close();
            closeSocket();
            return;
        }
        fd = NioFds.fdOf(socket);
        out = new SendBuffer(memory, sendBlock, SEND_BACKLOG_LIMIT, this::outputReady);
        connection = new TcpQpairConnection(config, out, this, group, this, first);
        acceptedNanos = transport.clock().nanoTime();
        group.add(this);
        interest = SelectionKey.OP_READ;
        watch = group.thread().watch(socket, interest, this);
    }

    @Override
    public KeelThread thread() {
        return group.thread();
    }

    /** When the poll group took the connection (its connect timeout runs from here). */
    long acceptedNanos() {
        return acceptedNanos;
    }

    TcpPollGroup group() {
        return group;
    }

    QpairCommands.State state() {
        return commands.state();
    }

    int qid() {
        return commands.qid();
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
        return transport.options();
    }

    int pendingBuffers() {
        return connection.pendingBufferCount();
    }

    int requestsInUse() {
        return connection.requestsInUse();
    }

    int waitingForBdevIo() {
        return commands.waitingForBdevIo();
    }

    /** I/O commands this live qpair completed (a closed one's count moves into its group's total). */
    long completedIo() {
        return commands.completedIo();
    }

    TcpTransport transport() {
        return transport;
    }

    @Override
    public Controller adminController() {
        return commands.binding().controller();
    }

    void retryPending() {
        if (connection.pendingBufferCount() > 0) {
            connection.retryPending();
        }
    }

    // ---- socket events ----

    @Override
    public int onReady(int readyOps) {
        if (handle((readyOps & SelectionKey.OP_READ) != 0, (readyOps & SelectionKey.OP_WRITE) != 0)) {
            group.hostSent(this);
        }
        return 1;
    }

    /**
     * Reads what the host sent without asking epoll first: its group calls this every turn while the queue is
     * {@link #readByGroup read by it}. Whether anything came.
     */
    boolean receiveFromGroup() {
        return handle(true, false);
    }

    /**
     * Whether the group reads this queue every turn ({@link #receiveFromGroup}) instead of epoll telling it when
     * the host sent something: the socket leaves or rejoins the reactor's read interest.
     */
    void readByGroup(boolean byGroup) {
        readByGroup = byGroup;
        if (state() != QpairCommands.State.CLOSED) {
            updateInterest((interest & SelectionKey.OP_WRITE) != 0);
        }
    }

    /** Whether the group reads this queue every turn. */
    boolean readByGroup() {
        return readByGroup;
    }

    /** Whether the host's bytes were read; output written if due. */
    private boolean handle(boolean readable, boolean writable) {
        inHandler = true;
        boolean got = false;
        try {
            if (readable) {
                got = receive();
            }
            if (!outputHeld || committedInHandler || writable || out.pending() >= TcpPollGroup.HELD_OUTPUT_BYTES) {
                flush();
            }
        } finally {
            inHandler = false;
            committedInHandler = false;
        }
        return got;
    }

    /** Reads (up to a few times while the buffer fills) and hands the bytes on: whether any came. */
    private boolean receive() {
        boolean got = false;
        ByteBuffer in = group.receiveBuffer(); // the group's: every byte read is consumed before the next read
        for (int i = 0; i < READS_PER_EVENT && state() != QpairCommands.State.CLOSED && !out.backlogged(); i++) {
            int n;
            in.clear();
            try {
                n = socket.read(in);
            } catch (IOException e) {
                close("receive failed: " + e.getMessage());
                return got;
            }
            if (n < 0) {
                close("host closed the connection");
                return got;
            }
            if (n == 0) {
                break;
            }
            group.socketReads++;
            got = true;
            connection.onBytes(group.receiveSegment(), 0, n);
            if (n < in.capacity()) {
                break;
            }
        }
        if (got) {
            commands.touch(transport.clock().nanoTime());
        }
        return got;
    }

    /**
     * Output was committed: write it at the end of this event, or later in this turn if none is running. A
     * completion while more of this queue's commands are in flight is held instead, for its poll group to write
     * together with the ones that follow ({@link TcpPollGroup#holdOutput}): at queue depth one PDU per write
     * costs the host a receive per handful of completions, and at high depth it is the host that limits. Held
     * read data is written as soon as {@link TcpPollGroup#HELD_DATA_PDUS} PDUs of it wait (unless the socket is
     * full): a burst of reads then leaves in ~48 KiB writes that the host consumes while the burst completes.
     */
    private void outputReady() {
        if (inHandler) {
            committedInHandler = true;
            return;
        }
        if (flushScheduled || state() == QpairCommands.State.CLOSED) {
            return;
        }
        if (connection.requestsInUse() > 1) {
            if (out.references() >= TcpPollGroup.HELD_DATA_PDUS && (interest & SelectionKey.OP_WRITE) == 0
                    && !flushing) {
                flush(); // enough read data for a write of its own: the host starts on it while the rest completes
                return;
            }
            if (!outputHeld) {
                outputHeld = true;
                heldTurns = 0;
                group.holdOutput(this);
            }
            return;
        }
        flushScheduled = true;
        group.thread().send(FLUSH, this);
    }

    /** Whether output waits for the poll group to write it; false again once anything wrote it. */
    boolean outputHeld() {
        return outputHeld;
    }

    /** Counts one more poll-group turn the held output waited: how many it has waited, this one included. */
    int heldTurn() {
        return ++heldTurns;
    }

    long pendingOutput() {
        return out.pending();
    }

    /** The poll group writes the output it held. */
    void writeHeldOutput() {
        flush();
    }

    private void flushFromMessage() {
        flushScheduled = false;
        flush();
    }

    /** One gathering send on the socket: the bytes it took (0: full for now), or why it failed. */
    private long send(GatherSend pieces) throws IOException {
        long n = pieces.send(fd);
        if (n >= 0) {
            return n;
        }
        if (n == -Libc.EAGAIN) {
            return 0;
        }
        throw new IOException(Libc.strerror((int) -n));
    }

    private void flush() {
        outputHeld = false;
        if (state() == QpairCommands.State.CLOSED) {
            return;
        }
        long left;
        try {
            if (out.pending() > 0) {
                group.socketWrites++;
            }
            flushing = true;
            left = out.flush(group.gatherSend(), sender);
        } catch (IOException e) {
            close("send failed: " + e.getMessage());
            return;
        } finally {
            flushing = false;
        }
        updateInterest(left > 0);
    }

    /** Asks epoll for writability while output waits, for reads unless backlogged or the group reads the socket. */
    private void updateInterest(boolean writeWaits) {
        int want = writeWaits ? SelectionKey.OP_WRITE : 0;
        if (!out.backlogged() && !readByGroup) {
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
        commands.command(r);
    }

    @Override
    public ForwardedCommand<TcpRequest> forwarded(TcpRequest r) {
        return r.forwarded;
    }

    /**
     * Reserves the request table the Connect's SQSIZE asks for before it goes to the controller logic; refused with
     * Controller Busy when the group's queue memory is spent. An SQSIZE beyond the transport's bound reserves
     * nothing: the controller logic refuses it.
     */
    @Override
    public boolean reserve(TcpRequest r) {
        Sqe.Connect c = r.sqe().connect();
        int qid = c.qid();
        int entries = c.sqsize() + 1;
        if (entries <= transport.maxEntries(qid)) {
            reserved = RequestTable.take(group.memory(), entries, transport.inCapsuleDataSize(qid));
            if (reserved == null) {
                QueueMemory m = group.memory();
                LOG.info("nvmf: Connect of queue {} from {}:{} refused: {} queue memory spent ({} of {} bytes in "
                        + "use, {} needed; transport option keel_queue_memory_mb)", qid, peerAddress.traddr(),
                        peerAddress.trsvcid(), group.name(), m.inUse(), m.limit(),
                        RequestTable.bytes(entries, transport.inCapsuleDataSize(qid)));
                r.complete(Status.field(Status.CONTROLLER_BUSY, false), 0);
                return false;
            }
        }
        return true;
    }

    @Override
    public void forwardedDone(ForwardedCommand<TcpRequest> f, TcpRequest r, int status, int dw0, int dw1) {
        commands.answered(f);
        if (r.state() == TcpRequest.State.EXECUTING) {
            r.complete(status, dw0, dw1);
        }
        if (reserved != null) { // the Connect's answer is out and its request free: the queue's own table now
            RequestTable t = reserved;
            reserved = null;
            if (state() == QpairCommands.State.ENABLED
                    && connection.state() == TcpQpairConnection.State.ESTABLISHED) {
                connection.install(t);
            } else {
                t.release();
            }
        }
    }

    @Override
    public int bound(int qid) {
        connection.sqid(qid);
        if (qid == 0) {
            group.adminQpairs++;
        } else {
            group.ioQpairs++;
            group.ioQueueBound();
        }
        return reserved != null ? reserved.entries() : 1;
    }

    @Override
    public void namespacesChanged(Namespace[] table, Runnable drained) {
        commands.namespacesChanged(table, drained);
    }

    // ---- the end ----

    @Override
    public void ended(TcpQpairConnection c, TcpQpairConnection.State end, int fes, String reason) {
        if (end == TcpQpairConnection.State.TERMINATED) {
            LOG.warn("nvmf: qpair {} from {}:{}: {} (FES {}); connection terminated", qid(), peerAddress.traddr(),
                    peerAddress.trsvcid(), reason, fes);
            flush(); // the C2HTermReq
        }
        close(reason);
    }

    /** Closes the socket and tells the registry the queue is gone. Idempotent; on the group's thread. */
    @Override
    public void close(String reason) {
        if (state() == QpairCommands.State.CLOSED) {
            return;
        }
        LOG.debug("nvmf: qpair {} from {}:{} closed: {}", qid(), peerAddress.traddr(), peerAddress.trsvcid(), reason);
        connection.close(); // its table goes back to the pool once the commands still executing are done
        out.discard(); // referenced data buffers go back to the pool unsent
        out.close();
        if (reserved != null) {
            reserved.release();
            reserved = null;
        }
        if (watch != null) {
            watch.cancel();
        }
        closeSocket();
        group.completedNvmeIo += commands.close();
        group.remove(this);
    }

    private void closeSocket() {
        fd = -1; // the number may soon be another file's: a late send fails (EBADF) instead of writing there
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("nvmf: closing a qpair socket: {}", e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "TcpQpair[qid " + qid() + ", " + state() + ", " + peerAddress.traddr() + ":" + peerAddress.trsvcid() + "]";
    }
}
