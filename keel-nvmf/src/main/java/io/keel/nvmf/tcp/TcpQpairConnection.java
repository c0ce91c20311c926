package io.keel.nvmf.tcp;

import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.CapsuleCmdPdu;
import io.keel.nvme.tcp.DataPdu;
import io.keel.nvme.tcp.Fes;
import io.keel.nvme.tcp.H2CDataPdu;
import io.keel.nvme.tcp.IcReqPdu;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The target (controller) side of one NVMe/TCP connection, without a socket: the owner feeds it the bytes it
 * receives ({@link #onBytes}) in any split and sends what it writes into its {@link PduSink}. One owner
 * thread, no locks (DESIGN R1); nothing is allocated per command once constructed (requests, SQE copies and
 * in-capsule buffers come with its {@link RequestTable}; PDUs are encoded in place into the sink).
 *
 * <p>Memory (rule R10): the connection runs on the table it is given, and the owner may {@link #install} a
 * bigger one while no request is in use (after the Connect, sized from its SQSIZE). Once the connection has
 * ended and the last request the handler held has completed, the table goes back to its pool.
 *
 * <p>States ({@link State}): {@code AWAITING_IC_REQ} → ICReq → ICResp → {@code ESTABLISHED}; a fatal
 * protocol error found by us → C2HTermReq → {@code TERMINATED}; an H2CTermReq from the host or
 * {@link #close()} → {@code CLOSED}. Both end states are final and reported once to the {@link ConnectionListener}.
 *
 * <p>Commands: a CapsuleCmd takes a {@link TcpRequest} from the table and its SGL decides the
 * data path: in-capsule data (data block, offset subtype) lands in the request's in-capsule buffer; transport
 * data (transport data block) takes a buffer from the {@link BufferProvider} (waiting in a FIFO if none is
 * free) and, for writes, is fetched with R2Ts (one outstanding per command, R2TL at most
 * {@link TcpConnectionConfig#maxR2TLength()}, TTAG = request index, in-order H2CData checked against the R2T),
 * then the {@link CommandHandler} gets it. Reads are sent as C2HData PDUs of at most
 * {@link TcpConnectionConfig#maxC2HData()} bytes, the last with LAST_PDU, and with SUCCESS instead of a
 * CapsuleResp when {@link TcpConnectionConfig#c2hSuccess()} is on and the status is success.
 *
 * <p>Errors: a malformed PDU (reader ERROR: its FES/FEI), an H2CData naming no outstanding R2T (FES 01h, FEI
 * at TTAG or CCCID) or outside its R2T (FES 04h "data transfer out of range", FEI at DATAO), or a command
 * beyond the queue depth (FES 02h) sends a C2HTermReq echoing the offending header and ends the connection.
 * A data digest error on in-capsule or H2C data fails only that command, without calling the handler, with
 * generic status 22h Transient Transport Error, DNR clear (as SPDK does; NVMe/TCP 1.0 lets the controller
 * either terminate or fail the command, and the command may be retried). Invalid SGLs fail the command with
 * the SGL status codes (DNR set).
 */
public final class TcpQpairConnection {
    /** Connection states. */
    public enum State {
        /** Waiting for the host's ICReq. */
        AWAITING_IC_REQ,
        /** ICResp sent, digests and alignment negotiated; commands flow. */
        ESTABLISHED,
        /** We sent a C2HTermReq after a fatal error; final. */
        TERMINATED,
        /** The host sent an H2CTermReq, or the owner closed it; final. */
        CLOSED
    }

    private static final String R_HOST_TERM = "host sent H2CTermReq";
    private static final String R_CLOSED = "closed by owner";
    private static final String R_QUEUE_FULL = "command beyond the queue depth";
    private static final String R_BAD_TTAG = "H2CData TTAG names no outstanding R2T";
    private static final String R_BAD_CCCID = "H2CData CCCID differs from the R2T's command";
    private static final String R_OUT_OF_RANGE = "H2CData outside the outstanding R2T";
    /** A digest as the wire has it (little-endian, as the encoder writes it). */
    private static final ValueLayout.OfInt DIGEST = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TRANSPORT_ERROR_STATUS = Status.field(Status.TRANSIENT_TRANSPORT_ERROR, false);

    private final TcpConnectionConfig config;
    private final PduSink sink;
    private final CommandHandler handler;
    private final BufferProvider buffers;
    private final ConnectionListener listener;
    private final PduReader reader;
    private final PduEncoder encoder = new PduEncoder();
    private final Cqe cqe = new Cqe();

    private static final TcpRequest[] NO_REQUESTS = new TcpRequest[0];

    private RequestTable table;
    private TcpRequest[] requests;
    private int[] freeStack;
    private int freeTop;
    private int[] pending;
    private int pendingHead;
    private int pendingCount;
    private boolean draining;

    private State state = State.AWAITING_IC_REQ;
    /** The request whose data the current PDU carries (null: the data is discarded). */
    private TcpRequest rxRequest;
    private int sqhd;
    private int sqid;
    private int sqEntries;
    private long commands;

    /** @param table the requests to start with (a Connect needs one); the connection gives it back when done */
    public TcpQpairConnection(TcpConnectionConfig config, PduSink sink, CommandHandler handler, BufferProvider buffers,
            ConnectionListener listener, RequestTable table) {
        this.config = Objects.requireNonNull(config, "config");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.buffers = Objects.requireNonNull(buffers, "buffers");
        this.listener = Objects.requireNonNull(listener, "listener");
        long maxData = Math.max(config.inCapsuleDataSize(), config.maxH2CData());
        // header + header digest + the largest padding (PDA 31: 128-byte alignment) + data + data digest
        this.reader = new PduReader(PduReader.Role.CONTROLLER, PduType.CAPSULE_CMD_HLEN + 4 + 128 + maxData + 4);
        use(Objects.requireNonNull(table, "table"));
    }

    private void use(RequestTable t) {
        table = t;
        requests = t.requests;
        freeStack = t.freeStack;
        pending = t.pending;
        t.attach(this);
        freeTop = requests.length;
        pendingHead = 0;
        pendingCount = 0;
        sqEntries = requests.length;
        sqhd %= sqEntries;
    }

    /**
     * Runs on {@code t} from now on (its size is the SQ size SQHD wraps at); the table used so far goes back to
     * its pool. Only while the connection is open and no request is in use.
     */
    public void install(RequestTable t) {
        if (!isOpen() || requestsInUse() > 0) {
            throw new IllegalStateException("install on " + this);
        }
        table.release();
        use(t);
    }

    /** Whether the connection still holds its request table (until it ended and every request completed). */
    public boolean holdsTable() {
        return table != null;
    }

    public State state() {
        return state;
    }

    public TcpConnectionConfig config() {
        return config;
    }

    /** SQ identifier put in CQEs (0 until the owner learns the queue from the Connect command). */
    public void sqid(int sqid) {
        this.sqid = sqid;
    }

    /** Requests not in the pool (receiving, waiting for a buffer, with the handler). */
    public int requestsInUse() {
        return requests.length - freeTop;
    }

    /** Requests waiting for a data buffer (SPDK's pending_data_buffer). */
    public int pendingBufferCount() {
        return pendingCount;
    }

    /** Commands received since the connection started. */
    public long commands() {
        return commands;
    }

    public boolean headerDigest() {
        return encoder.headerDigest();
    }

    public boolean dataDigest() {
        return encoder.dataDigest();
    }

    /** The request with pool index {@code index} (for stats and tests). */
    public TcpRequest request(int index) {
        return requests[index];
    }

    /** Feeds {@code length} received bytes of {@code src} at {@code offset}. Ignored once the connection ended. */
    public void onBytes(MemorySegment src, long offset, long length) {
        long pos = 0;
        while (state == State.AWAITING_IC_REQ || state == State.ESTABLISHED) {
            PduReader.Event event = reader.decode(src, offset + pos, length - pos);
            pos += reader.consumed();
            switch (event) {
                case NEED_MORE -> {
                    return;
                }
                case HEADER -> onHeader();
                case DATA -> {
                    // data of a PDU we discard (TermReq copy, in-capsule data of a failed command)
                }
                case END -> onEnd(false);
                case DATA_DIGEST_ERROR -> onEnd(true);
                case ERROR -> fatal(reader.fes(), reader.fei(), reader.errorReason());
                default -> throw new IllegalStateException("unexpected " + event);
            }
        }
    }

    /**
     * Gives the requests waiting for a data buffer another try, in order; the owner calls this when buffers
     * were released elsewhere and on idle polls (DESIGN R6).
     */
    public void retryPending() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (pendingCount > 0 && isOpen()) {
                TcpRequest r = requests[pending[pendingHead]];
                if (!tryBuffer(r)) {
                    return;
                }
                pendingHead = (pendingHead + 1) % pending.length;
                pendingCount--;
                startData(r);
            }
        } finally {
            draining = false;
        }
    }

    /** Ends the connection from the owner's side (socket closed, shutdown). Idempotent. */
    public void close() {
        end(State.CLOSED, Fes.NONE, R_CLOSED);
    }

    private boolean isOpen() {
        return state == State.ESTABLISHED;
    }

    private void onHeader() {
        switch (reader.type()) {
            case PduType.CAPSULE_CMD -> capsuleHeader();
            case PduType.H2C_DATA -> h2cHeader();
            default -> rxRequest = null; // ICReq, H2CTermReq: acted on at END
        }
    }

    private void onEnd(boolean digestError) {
        switch (reader.type()) {
            case PduType.IC_REQ -> icReq();
            case PduType.H2C_TERM_REQ -> end(State.CLOSED, reader.termReq().fes(), R_HOST_TERM);
            case PduType.CAPSULE_CMD -> capsuleEnd(digestError);
            case PduType.H2C_DATA -> h2cEnd(digestError);
            default -> throw new IllegalStateException("reader passed a " + PduType.name(reader.type()));
        }
    }

    // ---- connection initialization

    private void icReq() {
        IcReqPdu ic = reader.icReq();
        boolean h = ic.headerDigestEnable() && config.headerDigest();
        boolean d = ic.dataDigestEnable() && config.dataDigest();
        int hpda = ic.hpda();
        long off = sink.claim(PduType.IC_HLEN);
        int n = encoder.icResp(sink.buffer(), off, 0, config.cpda(), h, d, config.maxH2CData());
        sink.commit(off, n);
        reader.negotiated(h, d, config.cpda()).maxH2CData(config.maxH2CData());
        encoder.negotiated(h, d, hpda);
        state = State.ESTABLISHED;
    }

    // ---- command capsules

    private void capsuleHeader() {
        if (freeTop == 0) {
            fatal(Fes.PDU_SEQUENCE_ERROR, 0, R_QUEUE_FULL);
            return;
        }
        TcpRequest r = requests[freeStack[--freeTop]];
        r.state = TcpRequest.State.RECEIVING_CAPSULE_DATA;
        MemorySegment.copy(reader.sqe(), 0, r.sqe().segment(), 0, CapsuleCmdPdu.SQE_LENGTH);
        r.cid = r.sqe().cid();
        commands++;
        sqhd = sqhd + 1 >= sqEntries ? 0 : sqhd + 1;
        long icdLength = reader.hasData() ? reader.dataLength() : 0;
        r.failedStatus = parseSgl(r, icdLength);
        if (r.failedStatus == 0 && r.inCapsule && icdLength > 0) {
            reader.readDataInto(r.inCapsuleBuffer(), 0);
        }
        rxRequest = r;
    }

    /** Sets direction, length and in-capsule use from the SQE; returns a CQE status field on error, else 0. */
    private int parseSgl(TcpRequest r, long icdLength) {
        Sqe sqe = r.sqe();
        int opc = sqe.opcode();
        int bits = (opc == Opcode.FABRICS ? sqe.fabrics().fctype() : opc) & 0x3;
        if (bits == 0x3) {
            return Status.field(Status.INVALID_FIELD, true); // bidirectional: not supported
        }
        SglDescriptor sgl = sqe.sgl();
        long length = sgl.length();
        if (bits == 0 || length == 0) {
            r.direction = DataDirection.NONE;
            return icdLength == 0 ? 0 : Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
        }
        r.direction = bits == 1 ? DataDirection.HOST_TO_CONTROLLER : DataDirection.CONTROLLER_TO_HOST;
        if (length > config.maxIoSize()) {
            return Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
        }
        r.length = length;
        switch (sgl.identifier()) {
            case SglDescriptor.ID_IN_CAPSULE -> {
                if (r.direction != DataDirection.HOST_TO_CONTROLLER) {
                    return Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true);
                }
                if (sgl.address() != 0) {
                    return Status.field(Status.SGL_OFFSET_INVALID, true);
                }
                if (length > table.inCapsuleDataSize || length != icdLength) {
                    return Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
                }
                r.inCapsule = true;
                return 0;
            }
            case SglDescriptor.ID_TRANSPORT -> {
                return icdLength == 0 ? 0 : Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
            }
            default -> {
                return Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true);
            }
        }
    }

    private void capsuleEnd(boolean digestError) {
        TcpRequest r = rxRequest;
        rxRequest = null;
        if (digestError && r.failedStatus == 0) {
            r.failedStatus = TRANSPORT_ERROR_STATUS;
        }
        if (r.failedStatus != 0) {
            respond(r, r.failedStatus, 0, 0);
            free(r);
        } else if (r.inCapsule) {
            r.data = r.inCapsuleData();
            execute(r);
        } else if (r.direction == DataDirection.NONE) {
            execute(r);
        } else if (pendingCount == 0 && tryBuffer(r)) {
            startData(r);
        } else {
            r.state = TcpRequest.State.AWAITING_BUFFER;
            pending[(pendingHead + pendingCount++) % pending.length] = r.index();
        }
    }

    private boolean tryBuffer(TcpRequest r) {
        MemorySegment b = buffers.acquire(r.length);
        if (b == null) {
            return false;
        }
        r.data = b;
        r.ownsBuffer = true;
        return true;
    }

    /** The request has its buffer: fetch write data with an R2T, or execute a read. */
    private void startData(TcpRequest r) {
        if (r.direction == DataDirection.HOST_TO_CONTROLLER) {
            sendR2T(r);
        } else {
            execute(r);
        }
    }

    private void execute(TcpRequest r) {
        r.state = TcpRequest.State.EXECUTING;
        handler.command(r);
    }

    // ---- host to controller data

    private void sendR2T(TcpRequest r) {
        r.state = TcpRequest.State.AWAITING_H2C_DATA;
        long length = Math.min(r.length - r.received, config.maxR2TLength());
        r.r2tEnd = r.received + length;
        int plen = (int) encoder.pduLength(PduType.R2T_HLEN, 0);
        long off = sink.claim(plen);
        int n = encoder.r2t(sink.buffer(), off, r.cid, r.index(), r.received, length);
        sink.commit(off, n);
    }

    private void h2cHeader() {
        H2CDataPdu h = reader.h2cData();
        int ttag = h.ttag();
        if (ttag >= requests.length || requests[ttag].state != TcpRequest.State.AWAITING_H2C_DATA) {
            fatal(Fes.INVALID_HEADER_FIELD, DataPdu.TTAG_OFFSET, R_BAD_TTAG);
            return;
        }
        TcpRequest r = requests[ttag];
        if (h.cccid() != r.cid) {
            fatal(Fes.INVALID_HEADER_FIELD, DataPdu.CCCID_OFFSET, R_BAD_CCCID);
            return;
        }
        long datao = h.datao();
        if (datao != r.received || datao + h.datal() > r.r2tEnd) {
            fatal(Fes.DATA_TRANSFER_OUT_OF_RANGE, DataPdu.DATAO_OFFSET, R_OUT_OF_RANGE);
            return;
        }
        reader.readDataInto(r.data, datao);
        rxRequest = r;
    }

    private void h2cEnd(boolean digestError) {
        TcpRequest r = rxRequest;
        rxRequest = null;
        r.received += reader.dataLength();
        if (digestError && r.failedStatus == 0) {
            r.failedStatus = TRANSPORT_ERROR_STATUS;
        }
        if (r.received < r.r2tEnd) {
            return;
        }
        if (r.failedStatus != 0) {
            respond(r, r.failedStatus, 0, 0);
            free(r);
        } else if (r.received < r.length) {
            sendR2T(r);
        } else {
            execute(r);
        }
    }

    // ---- completion, controller to host data

    void completed(TcpRequest r, int statusField, int dw0, int dw1) {
        if (isOpen()) {
            boolean success = (statusField >>> 1 & 0x7FF) == 0;
            if (success && r.direction == DataDirection.CONTROLLER_TO_HOST && r.length > 0) {
                boolean viaData = config.c2hSuccess();
                sendC2H(r, viaData);
                if (!viaData) {
                    respond(r, statusField, dw0, dw1);
                }
            } else {
                respond(r, statusField, dw0, dw1);
            }
        }
        free(r);
    }

    private void sendC2H(TcpRequest r, boolean success) {
        long total = r.length;
        long max = config.maxC2HData();
        if (r.ownsBuffer && total <= max && r.data.byteSize() == total) {
            sendC2HByReference(r, success);
            return;
        }
        long o = 0;
        while (o < total) {
            int n = (int) Math.min(max, total - o);
            boolean last = o + n == total;
            int plen = (int) encoder.pduLength(PduType.DATA_HLEN, n);
            long off = sink.claim(plen);
            encoder.c2hData(sink.buffer(), off, r.cid, 0, o, r.data, o, n, last, last && success);
            sink.commit(off, plen);
            o += n;
        }
    }

    /**
     * One C2HData PDU whose data leaves from the request's own buffer: the header (and the data digest after the
     * data) is encoded into the sink, the buffer is handed to the sink by reference and released by it once
     * sent, so the read's data is never copied here.
     */
    private void sendC2HByReference(TcpRequest r, boolean success) {
        int n = (int) r.length;
        int pdo = encoder.dataOffset(PduType.DATA_HLEN);
        long off = sink.claim(pdo);
        encoder.c2hData(sink.buffer(), off, r.cid, 0, 0, null, 0, n, true, success); // header and padding only
        sink.commit(off, pdo);
        MemorySegment data = r.data;
        r.ownsBuffer = false;
        r.data = null;
        int digest = encoder.dataDigest() ? encoder.dataDigestOf(data, 0, n) : 0;
        sink.appendReference(data, buffers);
        if (encoder.dataDigest()) {
            long d = sink.claim(4);
            sink.buffer().set(DIGEST, d, digest);
            sink.commit(d, 4);
        }
    }

    private void respond(TcpRequest r, int statusField, int dw0, int dw1) {
        int plen = (int) encoder.pduLength(PduType.CAPSULE_RESP_HLEN, 0);
        long off = sink.claim(plen);
        MemorySegment buf = sink.buffer();
        cqe.wrap(buf, off + 8);
        cqe.dw0(dw0).dw1(dw1).sqhd(sqhd).sqid(sqid).cid(r.cid).statusField(statusField & ~1);
        int n = encoder.capsuleResp(buf, off, null, 0);
        sink.commit(off, n);
    }

    void releaseBuffer(TcpRequest r) {
        if (r.ownsBuffer) {
            MemorySegment b = r.data;
            r.ownsBuffer = false;
            r.data = null;
            buffers.release(b);
            if (pendingCount > 0) {
                retryPending();
            }
        }
    }

    private void free(TcpRequest r) {
        releaseBuffer(r);
        r.reset();
        freeStack[freeTop++] = r.index();
        if (freeTop == requests.length && (state == State.TERMINATED || state == State.CLOSED)) {
            releaseTable();
        }
    }

    /** The connection ended and its last request is free: the table goes back to its pool. */
    private void releaseTable() {
        RequestTable t = table;
        table = null;
        requests = NO_REQUESTS;
        freeTop = 0;
        t.release();
    }

    // ---- errors and the end

    private void fatal(int fes, long fei, String reason) {
        int n = Math.min(reader.headerBytes(), PduType.TERM_REQ_MAX_DATA);
        int plen = PduType.TERM_REQ_HLEN + n;
        long off = sink.claim(plen);
        int written = encoder.termReq(sink.buffer(), off, PduType.C2H_TERM_REQ, fes, fei, reader.headerSegment(), 0, n);
        sink.commit(off, written);
        end(State.TERMINATED, fes, reason);
    }

    private void end(State to, int fes, String reason) {
        if (state == State.TERMINATED || state == State.CLOSED) {
            return;
        }
        state = to;
        rxRequest = null;
        pendingCount = 0;
        // Requests the handler holds come back through complete(); the others go back to the pool now.
        TcpRequest[] all = requests;
        for (TcpRequest r : all) {
            if (r.state != TcpRequest.State.FREE && r.state != TcpRequest.State.EXECUTING) {
                free(r);
            }
        }
        if (table != null && freeTop == requests.length) {
            releaseTable();
        }
        listener.ended(this, to, fes, reason);
    }

    @Override
    public String toString() {
        return "TcpQpairConnection[" + state + ", inUse=" + requestsInUse() + ", pending=" + pendingCount + "]";
    }
}
