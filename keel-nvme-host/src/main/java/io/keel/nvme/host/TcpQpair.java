package io.keel.nvme.host;

import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import io.keel.nvme.tcp.TcpPdu;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * One NVMe/TCP queue pair (admin or I/O) on a non-blocking socket, driven by its owner thread's {@link #poll}.
 *
 * <p>The command ID is the caller's slot number ({@code 0 .. depth-1}); per-command state, the send and receive
 * buffers and the SQE scratch are allocated once, so submitting and polling allocate nothing. A command is
 * built in {@link #command()}, then {@link #submit} frames it: write data goes in the capsule when it fits
 * (in-capsule limit from IOCCSZ), otherwise it waits for R2Ts and is sent as H2CData. Read data is copied from
 * C2HData straight into the caller's buffer; a C2HData with SUCCESS completes the command without a
 * CapsuleResp. Completions go to the {@link CompletionHandler}, from inside {@link #poll}.
 *
 * <p>States: CONNECTING (TCP and the ICReq/ICResp exchange, bounded by a deadline), READY, FAILED (a transport
 * or protocol error; the exception is thrown from every later call), CLOSED. Not thread-safe: one owner.
 */
public final class TcpQpair implements AutoCloseable {
    /** Receives each completion: {@code status} is SCT << 8 | SC (0 = success), {@code result} CQE DW1:DW0. */
    @FunctionalInterface
    public interface CompletionHandler {
        void onCompletion(int cid, int status, long result);
    }

    enum State { CONNECTING, READY, FAILED, CLOSED }

    /** Admin queues and Fabrics commands: TCP targets take at least 8 KiB in the capsule there. */
    static final int ADMIN_IN_CAPSULE = 8192;
    private static final int RX_BUFFER = 256 << 10;
    private static final long MAX_RX_PDU = (64L << 20) + 1024;

    private final SocketChannel ch;
    private final Arena arena = Arena.ofShared();
    private final PduReader reader = new PduReader(PduReader.Role.HOST, MAX_RX_PDU);
    private final PduEncoder enc = new PduEncoder();
    private final MemorySegment sqeBuf;
    private final Sqe sqe = new Sqe();
    private final Cqe cqe = new Cqe();
    private final MemorySegment termData;

    private final MemorySegment tx;
    private final ByteBuffer txBuf;
    private int txStart;
    private int txEnd;
    private final MemorySegment rx;
    private final ByteBuffer rxBuf;

    private final int depth;
    private final boolean[] busy;
    private final boolean[] write;
    private final MemorySegment[] data;
    private final long[] dataOff;
    private final int[] length;
    private final int[] status;
    private final long[] result;
    private int outstanding;

    // R2Ts waiting for send-buffer room, a ring of at most one per command (we ask for MAXR2T 1)
    private final int[] r2tCid;
    private final int[] r2tTtag;
    private final long[] r2tNext;
    private final long[] r2tEnd;
    private int r2tHead;
    private int r2tCount;

    private CompletionHandler handler;
    private State state = State.CONNECTING;
    private IOException failure;
    private int inCapsuleMax = ADMIN_IN_CAPSULE;
    private long maxH2CData;
    private boolean headerDigest;
    private boolean dataDigest;

    private TcpQpair(SocketChannel ch, int depth, int txCapacity) {
        this.ch = ch;
        this.depth = depth;
        this.tx = arena.allocate(txCapacity, 4096);
        this.txBuf = tx.asByteBuffer();
        this.rx = arena.allocate(RX_BUFFER, 4096);
        this.rxBuf = rx.asByteBuffer();
        this.sqeBuf = arena.allocate(Sqe.SIZE, 8);
        this.termData = arena.allocate(PduType.TERM_REQ_MAX_DATA, 8);
        sqe.wrap(sqeBuf, 0);
        busy = new boolean[depth];
        write = new boolean[depth];
        data = new MemorySegment[depth];
        dataOff = new long[depth];
        length = new int[depth];
        status = new int[depth];
        result = new long[depth];
        r2tCid = new int[depth];
        r2tTtag = new int[depth];
        r2tNext = new long[depth];
        r2tEnd = new long[depth];
    }

    /**
     * Opens a TCP connection to {@code address} and runs the ICReq/ICResp exchange, asking for the digests
     * given (the controller may refuse them), all before {@code deadlineNanos} ({@link System#nanoTime}).
     * {@code depth} command IDs; {@code txCapacity} bytes of send buffer (at least one largest PDU).
     */
    public static TcpQpair open(InetSocketAddress address, int depth, int txCapacity, boolean headerDigest,
            boolean dataDigest, long deadlineNanos) throws IOException {
        SocketChannel ch = SocketChannel.open();
        TcpQpair q = null;
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.connect(address);
            while (!ch.finishConnect()) {
                waitUntil(deadlineNanos, "TCP connect to " + address);
            }
            q = new TcpQpair(ch, depth, Math.max(txCapacity, 64 << 10));
            q.initialize(headerDigest, dataDigest, deadlineNanos);
            return q;
        } catch (IOException | RuntimeException e) {
            if (q != null) {
                q.close();
            } else {
                ch.close();
            }
            throw e;
        }
    }

    private void initialize(boolean hdgst, boolean ddgst, long deadline) throws IOException {
        txEnd = enc.icReq(tx, 0, 0, 0, hdgst, ddgst, 0);
        while (txEnd > 0) {
            flush();
            if (txEnd > 0) {
                waitUntil(deadline, "sending ICReq");
            }
        }
        while (true) {
            int n = read();
            long pos = 0;
            while (n > 0) {
                PduReader.Event e = reader.decode(rx, pos, n - pos);
                pos += reader.consumed();
                if (e == PduReader.Event.ERROR) {
                    throw fail("bad ICResp: " + reader.errorReason());
                }
                if (e == PduReader.Event.NEED_MORE) {
                    break;
                }
                if (e == PduReader.Event.END) {
                    if (reader.type() != PduType.IC_RESP) {
                        throw fail("expected ICResp, got PDU type " + reader.type());
                    }
                    if (pos != n) {
                        throw fail("controller sent data after ICResp before any command");
                    }
                    headerDigest = reader.icResp().headerDigestEnable();
                    dataDigest = reader.icResp().dataDigestEnable();
                    if ((headerDigest && !hdgst) || (dataDigest && !ddgst)) {
                        throw fail("controller enabled a digest the host did not ask for");
                    }
                    maxH2CData = reader.icResp().maxh2cdata();
                    reader.negotiated(headerDigest, dataDigest, 0);
                    enc.negotiated(headerDigest, dataDigest, reader.icResp().cpda());
                    state = State.READY;
                    return;
                }
            }
            waitUntil(deadline, "ICResp");
        }
    }

    /** Sets who hears completions (may change between polls; null: nobody, results stay in {@link #status}). */
    public void handler(CompletionHandler h) {
        this.handler = h;
    }

    /** Largest write sent in the capsule; larger ones go through R2T. From IOCCSZ (and ICDOFF 0) on I/O queues. */
    public void inCapsuleMax(int bytes) {
        this.inCapsuleMax = bytes;
    }

    public int depth() {
        return depth;
    }

    public int outstanding() {
        return outstanding;
    }

    public boolean busy(int cid) {
        return busy[cid];
    }

    public int status(int cid) {
        return status[cid];
    }

    public long result(int cid) {
        return result[cid];
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    /** The SQE scratch, cleared: fill opcode, NSID and command dwords, then {@link #submit}. */
    public Sqe command() {
        return sqe.clear();
    }

    /**
     * Sends the command in {@link #command()} as {@code cid} with {@code len} data bytes at {@code buf[off]}
     * (host to controller if {@code toController}, else the buffer receives the data). Returns false, with
     * nothing sent, when the send buffer has no room now; try again after a {@link #poll}.
     */
    public boolean submit(int cid, boolean toController, MemorySegment buf, long off, int len) throws IOException {
        checkReady();
        if (busy[cid]) {
            throw new IllegalStateException("command ID " + cid + " is in use");
        }
        int limit = sqe.opcode() == Opcode.FABRICS ? Math.max(ADMIN_IN_CAPSULE, inCapsuleMax) : inCapsuleMax;
        boolean inCapsule = toController && len > 0 && len <= limit;
        int icd = inCapsule ? len : 0;
        if (!room(enc.pduLength(PduType.CAPSULE_CMD_HLEN, icd))) {
            return false;
        }
        sqe.cid(cid).psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        sqe.sgl().identifier(inCapsule ? SglDescriptor.ID_IN_CAPSULE : SglDescriptor.ID_TRANSPORT).length(len)
                .address(0);
        txEnd += enc.capsuleCmd(tx, txEnd, sqeBuf, 0, inCapsule ? buf : null, off, icd);
        busy[cid] = true;
        write[cid] = toController;
        data[cid] = buf;
        dataOff[cid] = off;
        length[cid] = len;
        outstanding++;
        return true;
    }

    /** NVM Read of {@code blocks} blocks at {@code slba} into {@code len} bytes at {@code buf[off]}; see {@link #submit}. */
    public boolean read(int cid, int nsid, long slba, int blocks, MemorySegment buf, long off, int len)
            throws IOException {
        command().opcode(Opcode.READ).nsid(nsid).rw().slba(slba).blockCount(blocks);
        return submit(cid, false, buf, off, len);
    }

    /** NVM Write of {@code blocks} blocks at {@code slba} from {@code len} bytes at {@code buf[off]}; see {@link #submit}. */
    public boolean write(int cid, int nsid, long slba, int blocks, MemorySegment buf, long off, int len)
            throws IOException {
        command().opcode(Opcode.WRITE).nsid(nsid).rw().slba(slba).blockCount(blocks);
        return submit(cid, true, buf, off, len);
    }

    /**
     * One duty cycle: reads what arrived (one read), handles it (completions call the handler), queues H2CData
     * for R2Ts, and sends what is pending (one write). Returns the number of commands completed.
     */
    public int poll() throws IOException {
        checkReady();
        int completed = 0;
        int n = read();
        long pos = 0;
        while (n > 0) {
            PduReader.Event e = reader.decode(rx, pos, n - pos);
            pos += reader.consumed();
            switch (e) {
                case NEED_MORE -> n = 0;
                case HEADER -> onHeader();
                case DATA -> { } // only TermReq data when no buffer was given; not reached
                case END -> completed += onPdu();
                case DATA_DIGEST_ERROR -> throw fail("data digest error in PDU type " + reader.type());
                case ERROR -> throw fail("protocol error from controller: " + reader.errorReason());
            }
        }
        sendR2tData();
        flush();
        return completed;
    }

    /** Sends, polls and waits until {@code cid} completes or the deadline passes; for admin and setup commands. */
    public int execute(int cid, boolean toController, MemorySegment buf, long off, int len, long deadlineNanos)
            throws IOException {
        while (!submit(cid, toController, buf, off, len)) {
            poll();
            waitUntil(deadlineNanos, "room to send command " + cid);
        }
        while (true) {
            poll();
            if (!busy[cid]) {
                return status[cid];
            }
            waitUntil(deadlineNanos, "completion of command " + cid);
        }
    }

    private void onHeader() throws IOException {
        int type = reader.type();
        if (type == PduType.C2H_DATA) {
            int cid = reader.c2hData().cccid();
            long datao = reader.c2hData().datao();
            if (cid >= depth || !busy[cid] || write[cid] || datao + reader.dataLength() > length[cid]) {
                throw fail("C2HData for command " + cid + " that does not expect it");
            }
            reader.readDataInto(data[cid], dataOff[cid] + datao);
        } else if (type == PduType.C2H_TERM_REQ && reader.hasData()) {
            reader.readDataInto(termData, 0);
        }
    }

    private int onPdu() throws IOException {
        switch (reader.type()) {
            case PduType.CAPSULE_RESP -> {
                cqe.wrap(reader.cqe());
                return complete(cqe.cid(), cqe.statusCode(), cqe.dw01());
            }
            case PduType.C2H_DATA -> {
                if ((reader.header().flags() & TcpPdu.FLAG_SUCCESS) != 0) {
                    return complete(reader.c2hData().cccid(), 0, 0);
                }
                return 0;
            }
            case PduType.R2T -> {
                onR2t();
                return 0;
            }
            case PduType.C2H_TERM_REQ -> throw fail("controller terminated the connection: FES "
                    + reader.termReq().fes() + " FEI " + reader.termReq().fei());
            default -> throw fail("unexpected PDU type " + reader.type());
        }
    }

    private void onR2t() throws IOException {
        int cid = reader.r2t().cccid();
        long r2to = reader.r2t().r2to();
        long r2tl = reader.r2t().r2tl();
        if (cid >= depth || !busy[cid] || !write[cid] || r2to + r2tl > length[cid] || r2tCount == depth) {
            throw fail("R2T for command " + cid + " that does not expect it");
        }
        int at = (r2tHead + r2tCount++) % depth;
        r2tCid[at] = cid;
        r2tTtag[at] = reader.r2t().ttag();
        r2tNext[at] = r2to;
        r2tEnd[at] = r2to + r2tl;
    }

    /** H2CData PDUs for queued R2Ts, each at most MAXH2CDATA and what the send buffer can take. */
    private void sendR2tData() {
        long chunkMax = Math.min(maxH2CData, tx.byteSize() - 256);
        while (r2tCount > 0) {
            int at = r2tHead;
            int cid = r2tCid[at];
            long from = r2tNext[at];
            int chunk = (int) Math.min(r2tEnd[at] - from, chunkMax);
            if (!room(enc.pduLength(PduType.DATA_HLEN, chunk))) {
                return;
            }
            boolean last = from + chunk == r2tEnd[at];
            txEnd += enc.h2cData(tx, txEnd, cid, r2tTtag[at], from, data[cid], dataOff[cid] + from, chunk, last);
            r2tNext[at] = from + chunk;
            if (last) {
                r2tHead = (r2tHead + 1) % depth;
                r2tCount--;
            }
        }
    }

    private int complete(int cid, int st, long res) throws IOException {
        if (cid >= depth || !busy[cid]) {
            throw fail("completion for command " + cid + " that is not outstanding");
        }
        busy[cid] = false;
        data[cid] = null;
        status[cid] = st;
        result[cid] = res;
        outstanding--;
        if (handler != null) {
            handler.onCompletion(cid, st, res);
        }
        return 1;
    }

    /** Whether {@code n} more bytes fit in the send buffer, compacting it if that makes room. */
    private boolean room(long n) {
        if (tx.byteSize() - txEnd >= n) {
            return true;
        }
        if (txStart > 0) {
            MemorySegment.copy(tx, txStart, tx, 0, txEnd - txStart);
            txEnd -= txStart;
            txStart = 0;
        }
        return tx.byteSize() - txEnd >= n;
    }

    private void flush() throws IOException {
        if (txEnd == txStart) {
            return;
        }
        txBuf.limit(txEnd).position(txStart);
        try {
            txStart += ch.write(txBuf);
        } catch (IOException e) {
            throw fail("send failed: " + e.getMessage());
        }
        if (txStart == txEnd) {
            txStart = 0;
            txEnd = 0;
        }
    }

    private int read() throws IOException {
        rxBuf.clear();
        int n;
        try {
            n = ch.read(rxBuf);
        } catch (IOException e) {
            throw fail("receive failed: " + e.getMessage());
        }
        if (n < 0) {
            throw fail("controller closed the connection");
        }
        return n;
    }

    private void checkReady() throws IOException {
        if (state == State.FAILED) {
            throw failure;
        }
        if (state != State.READY) {
            throw new IOException("queue pair is " + state);
        }
    }

    private IOException fail(String why) {
        state = State.FAILED;
        failure = new IOException(why);
        return failure;
    }

    /** A short pause in a setup wait (never on the I/O path), or a timeout once the deadline has passed. */
    static void waitUntil(long deadlineNanos, String what) throws IOException {
        if (System.nanoTime() - deadlineNanos > 0) {
            throw new java.net.SocketTimeoutException("timed out waiting for " + what);
        }
        LockSupport.parkNanos(20_000);
    }

    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        arena.close();
    }
}
