package io.keel.nvme.host.tcp;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.GatherSend;
import io.keel.core.sys.Libc;
import io.keel.core.sys.NioFds;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.MessageFn;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.QpairConfig;
import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.tcp.Crc32c;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import io.keel.nvme.tcp.TcpPdu;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A host queue pair over NVMe/TCP: a non-blocking socket watched by the owner thread's reactor, the ICReq/ICResp
 * exchange, and the framing of commands. A command goes in a CapsuleCmd, its write data in the capsule up to the
 * in-capsule limit (Fabrics and admin commands up to 8 KiB, which NVMe/TCP controllers take), larger write data as
 * H2CData PDUs when the controller sends R2Ts (each at most its MAXH2CDATA); a C2HData with SUCCESS ends the
 * command without a CapsuleResp.
 *
 * <p>Read data lands in the request's segments: what came with a buffered read is copied out of the poll group's
 * receive buffer, and the rest of a large C2HData is read from the socket straight into the segments with one
 * {@code readv} (as SPDK's host does), the data digest computed over the bytes where they landed. While large
 * C2HData PDUs arrive, buffered reads are kept short so that most of their data takes the direct way. (Direct
 * reads and all sends use the socket's descriptor, which the reactor's watch needs anyway: the JVM runs with
 * {@code --add-exports java.base/sun.nio.ch}.)
 *
 * <p>Output collects in one send buffer and leaves in one write per readiness event, or per message turn for
 * commands submitted from elsewhere on the thread; the socket is read only when the reactor says it is readable.
 * A command that finds no send room waits in the qpair's pending list until a write makes room. Write data (in the
 * capsule and in H2CData) is not copied into the send buffer: it is queued by reference and goes to the socket
 * from the request's own segments in the same gathering {@code sendmsg} as the PDU headers around it (as SPDK's
 * host writes it), so a request's buffers are the socket's until its last byte is written; a response that comes
 * before that (a controller answering data it has not read) is held until then. (Where a reference slot is
 * missing, or a segment is heap memory, the data is copied into the send buffer.)
 */
public final class TcpHostQpair extends HostQpair implements FdHandler {
    /** NVMe/TCP controllers take at least this much data in the capsule of Fabrics and admin commands. */
    static final int ADMIN_IN_CAPSULE = 8192;
    private static final long MAX_RX_PDU = (64L << 20) + 1024;
    private static final int READS_PER_EVENT = 4;
    private static final int SOCKET_BUFFER = 2 << 20;
    /** C2HData with at least this much data still to come is read straight into the request's segments. */
    static final long DIRECT_READ_MIN = 16 << 10;
    /** Buffered reads while large C2HData PDUs arrive: a header and the first bytes of data, no more. */
    private static final int SHORT_READ = 4096;
    private static final MessageFn<TcpHostQpair> FLUSH = TcpHostQpair::flushFromMessage;
    private static final ValueLayout.OfInt DIGEST = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private enum Link { CLOSED, TCP_CONNECTING, IC_EXCHANGE, READY }

    private final InetSocketAddress address;
    private final NativeArena arena = new NativeArena();
    private final MemorySegment tx;
    private final PduEncoder enc = new PduEncoder();
    private final Cqe cqe = new Cqe();
    private PduReader reader;
    private int txStart;
    private int txEnd;

    private SocketChannel socket;
    private FdWatch watch;
    private int interest;
    private Link link = Link.CLOSED;
    private boolean inHandler;
    private boolean flushScheduled;
    private long maxH2CData;

    /** The command of the C2HData being received (null between PDUs) and the PDU's data offset in it. */
    private HostRequest c2h;
    private long c2hBase;
    /** Its segments are native memory that readv may fill; its data is scattered over several segments. */
    private boolean c2hDirect;
    private boolean c2hScatter;
    /** The last C2HData carried {@link #DIRECT_READ_MIN} or more and direct reads work: keep buffered reads short. */
    private boolean largeC2h;
    private int fd = -1;
    private final MemorySegment iov;
    private final MemorySegment callState;
    private final MemorySegment[] iovSegment = new MemorySegment[HostRequest.MAX_SEGMENTS];
    private final long[] iovOffset = new long[HostRequest.MAX_SEGMENTS];

    // Write data queued by reference, FIFO: each piece goes to the socket once the send buffer's bytes before
    // refAt have (the PDU header it follows), from its request's segment at refAddr
    private final int[] refAt;
    private final long[] refAddr;
    private final long[] refLen;
    private final int[] refCid;
    private int refHead;
    private int refCount;
    private long refBytes;
    private final GatherSend gather;
    private final Crc32c dataCrc = new Crc32c();
    /** Per command ID: pieces of its data still queued; a response that came meanwhile, held until they are sent. */
    private final int[] refsOf;
    private final boolean[] held;
    private final int[] heldStatus;
    private final long[] heldResult;
    private int heldCount;

    // R2Ts waiting for send room: a FIFO of command IDs (one R2T at a time per command: we ask MAXR2T 1)
    private final int[] r2tRing;
    private int r2tHead;
    private int r2tCount;
    private final boolean[] r2tActive;
    private final int[] r2tTtag;
    private final long[] r2tNext;
    private final long[] r2tEnd;

    /**
     * A queue pair to {@code address} ({@code txCapacity} bytes of send buffer, at least 64 KiB), owned by
     * {@code group}'s thread. Connect it with {@link #connect}.
     */
    public TcpHostQpair(HostPollGroup group, InetSocketAddress address, QpairConfig config, int txCapacity,
            Listener listener) {
        super(group, config, listener);
        this.address = address;
        int cap = Math.max(txCapacity, 64 << 10);
        tx = arena.allocate(cap, 4096);
        iov = arena.allocate(Libc.IOVEC_BYTES * HostRequest.MAX_SEGMENTS, 8);
        callState = Libc.callState(arena);
        int n = config.requests();
        r2tRing = new int[n];
        r2tActive = new boolean[n];
        r2tTtag = new int[n];
        r2tNext = new long[n];
        r2tEnd = new long[n];
        int refs = Math.min(511, Math.max(64, 2 * n));
        refAt = new int[refs];
        refAddr = new long[refs];
        refLen = new long[refs];
        refCid = new int[refs];
        gather = new GatherSend(arena, 2 * refs + 1);
        refsOf = new int[n];
        held = new boolean[n];
        heldStatus = new int[n];
        heldResult = new long[n];
    }

    public boolean headerDigest() {
        return enc.headerDigest();
    }

    public boolean dataDigest() {
        return enc.dataDigest();
    }

    public InetSocketAddress address() {
        return address;
    }

    // ---- transport ----

    @Override
    protected void startConnect() {
        reader = new PduReader(PduReader.Role.HOST, MAX_RX_PDU);
        enc.negotiated(false, false, 0);
        txStart = 0;
        txEnd = 0;
        r2tCount = 0;
        c2h = null;
        largeC2h = false;
        try {
            socket = SocketChannel.open();
            socket.configureBlocking(false);
            fd = NioFds.fdOf(socket); // -1 (no --add-exports): the watch below refuses the socket
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            // fixed kernel buffers as SPDK's sockets have (2 MiB each): before connect, so the window scales to them
            socket.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
            socket.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
            boolean connected = socket.connect(address);
            link = Link.TCP_CONNECTING;
            interest = connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT;
            watch = thread.watch(socket, interest, this);
            if (connected) {
                sendIcReq();
                flush();
            }
        } catch (IOException | RuntimeException e) {
            transportFailed("TCP connect to " + describe() + " failed: " + e.getMessage());
        }
    }

    @Override
    protected void startDisconnect() {
        closeSocket();
        transportClosed();
    }

    @Override
    protected void releaseTransport() {
        closeSocket();
        arena.close();
    }

    @Override
    protected boolean send(HostRequest r) {
        Sqe s = r.sqe();
        long len = r.length();
        boolean admin = qid() == 0 || s.opcode() == Opcode.FABRICS;
        int limit = admin ? Math.max(ADMIN_IN_CAPSULE, inCapsuleBytes()) : inCapsuleBytes();
        boolean inCapsule = r.toController() && len > 0 && len <= limit;
        int icd = inCapsule ? (int) len : 0;
        boolean byReference = icd > 0 && canReference(r, 0, icd);
        if (!room(inlineLength(PduType.CAPSULE_CMD_HLEN, icd, byReference))) {
            return false;
        }
        s.psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        s.sgl().identifier(inCapsule ? SglDescriptor.ID_IN_CAPSULE : SglDescriptor.ID_TRANSPORT).length(len)
                .address(0);
        int at = txEnd;
        int pduLength = enc.capsuleCmd(tx, at, r.sqeBytes(), 0, null, 0, icd);
        if (icd > 0) {
            appendData(r, 0, icd, at, PduType.CAPSULE_CMD_HLEN, byReference);
        } else {
            txEnd += pduLength;
        }
        if (!inHandler && !flushScheduled) {
            flushScheduled = true;
            thread.send(FLUSH, this);
        }
        return true;
    }

    // ---- socket events ----

    @Override
    public int onReady(int readyOps) {
        inHandler = true;
        try {
            if (link == Link.TCP_CONNECTING && (readyOps & SelectionKey.OP_CONNECT) != 0) {
                finishTcpConnect();
            }
            if ((readyOps & SelectionKey.OP_READ) != 0) {
                group.countPoll(!receive());
            }
            pump();
        } finally {
            inHandler = false;
        }
        return 1;
    }

    private void flushFromMessage() {
        flushScheduled = false;
        inHandler = true;
        try {
            pump();
        } finally {
            inHandler = false;
        }
    }

    private void finishTcpConnect() {
        try {
            if (!socket.finishConnect()) {
                return;
            }
        } catch (IOException e) {
            transportFailed("TCP connect to " + describe() + " failed: " + e.getMessage());
            return;
        }
        setInterest(SelectionKey.OP_READ);
        sendIcReq();
    }

    private void sendIcReq() {
        txEnd += enc.icReq(tx, txEnd, 0, 0, config().headerDigest(), config().dataDigest(), 0);
        link = Link.IC_EXCHANGE;
    }

    /** Reads what arrived and handles it; answers whether anything was read. */
    private boolean receive() {
        boolean got = false;
        SocketChannel s = socket;
        ByteBuffer in = group.receiveBuffer(); // the group's: every byte read is consumed before the next read
        MemorySegment seg = group.receiveSegment();
        for (int i = 0; i < READS_PER_EVENT && socket == s && link != Link.CLOSED; i++) {
            long direct = c2hDirect ? reader.dataRemaining() : 0;
            if (direct >= DIRECT_READ_MIN) {
                long n = readDirect(direct);
                if (n <= 0) {
                    return got;
                }
                got = true;
                if (!decode(seg, 0, s) || n < direct) {
                    return got;
                }
                continue;
            }
            int limit = largeC2h ? SHORT_READ : in.capacity();
            in.clear().limit(limit);
            int n;
            try {
                n = s.read(in);
                group.countRead(n);
            } catch (IOException e) {
                transportFailed("receive from " + describe() + " failed: " + e.getMessage());
                return got;
            }
            if (n < 0) {
                transportFailed("controller " + describe() + " closed the connection");
                return got;
            }
            got |= n > 0;
            if (n == 0 || !decode(seg, n, s) || n < limit) {
                return got;
            }
        }
        return got;
    }

    /**
     * Reads up to {@code want} bytes of the current C2HData's data from the socket straight into its command's
     * segments; answers how many came (0: none there, or the connection failed).
     */
    private long readDirect(long want) {
        HostRequest r = c2h;
        long at = c2hBase + reader.dataPosition();
        int count = 0;
        for (int i = 0; i < r.segmentCount() && want > 0; i++) {
            long len = r.segmentLength(i);
            if (at >= len) {
                at -= len;
                continue;
            }
            long take = Math.min(len - at, want);
            iovSegment[count] = r.segment(i);
            iovOffset[count] = r.segmentOffset(i) + at;
            iov.set(ValueLayout.JAVA_LONG, count * Libc.IOVEC_BYTES, r.segment(i).address() + iovOffset[count]);
            iov.set(ValueLayout.JAVA_LONG, count * Libc.IOVEC_BYTES + 8, take);
            count++;
            want -= take;
            at = 0;
        }
        long n = Libc.readv(fd, iov, count, callState);
        if (n == -Libc.EAGAIN) {
            return 0;
        }
        if (n <= 0) {
            transportFailed(n == 0 ? "controller " + describe() + " closed the connection"
                    : "receive from " + describe() + " failed: errno " + -n);
            return 0;
        }
        group.countRead((int) Math.min(n, Integer.MAX_VALUE));
        long left = n;
        for (int k = 0; left > 0; k++) {
            long piece = Math.min(left, iov.get(ValueLayout.JAVA_LONG, k * Libc.IOVEC_BYTES + 8));
            reader.dataReceived(iovSegment[k], iovOffset[k], piece);
            left -= piece;
        }
        return n;
    }

    /** Handles {@code n} received bytes (the reader may end a PDU with no bytes left); false when the connection went away meanwhile. */
    private boolean decode(MemorySegment seg, int n, SocketChannel s) {
        long pos = 0;
        while (true) {
            PduReader.Event e = reader.decode(seg, pos, n - pos);
            pos += reader.consumed();
            switch (e) {
                case NEED_MORE -> {
                    return true;
                }
                case HEADER -> onHeader();
                case DATA -> onData(seg);
                case END -> onPdu();
                case DATA_DIGEST_ERROR -> protocolError("data digest mismatch in PDU type " + reader.type());
                case ERROR -> protocolError("malformed PDU: " + reader.errorReason());
            }
            if (socket != s || link == Link.CLOSED) {
                return false;
            }
        }
    }

    private void onHeader() {
        c2h = null;
        c2hDirect = false;
        if (reader.type() != PduType.C2H_DATA) {
            return;
        }
        int cid = reader.c2hData().cccid();
        long datao = reader.c2hData().datao();
        HostRequest r = outstanding(cid);
        if (r == null || r.toController() || datao + reader.dataLength() > r.length()) {
            protocolError("C2HData for command " + cid + " that does not expect it");
            return;
        }
        c2h = r;
        c2hBase = datao;
        c2hScatter = r.segmentCount() > 1;
        largeC2h = reader.dataLength() >= DIRECT_READ_MIN;
        c2hDirect = largeC2h && nativeSegments(r);
        if (!c2hScatter) {
            reader.readDataInto(r.segment(0), r.segmentOffset(0) + datao);
        }
    }

    private static boolean nativeSegments(HostRequest r) {
        for (int i = 0; i < r.segmentCount(); i++) {
            if (!r.segment(i).isNative()) {
                return false;
            }
        }
        return true;
    }

    private void onData(MemorySegment seg) {
        if (c2hScatter && c2h != null) {
            c2h.copyIn(seg, reader.chunkOffset(), c2hBase + reader.chunkDataOffset(), reader.chunkLength());
        }
    }

    private void onPdu() {
        switch (reader.type()) {
            case PduType.IC_RESP -> onIcResp();
            case PduType.CAPSULE_RESP -> {
                cqe.wrap(reader.cqe());
                int cid = cqe.cid();
                if (cid >= 0 && cid < r2tActive.length) {
                    r2tActive[cid] = false;
                    if (refsOf[cid] > 0 && outstanding(cid) != null) {
                        holdResponse(cid, cqe.statusField() & 0xFFFE, cqe.dw01());
                        return;
                    }
                }
                if (!complete(cid, cqe.statusField() & 0xFFFE, cqe.dw01())) {
                    protocolError("CapsuleResp for command " + cid + " that is not outstanding");
                }
            }
            case PduType.C2H_DATA -> {
                c2h = null;
                c2hDirect = false;
                if ((reader.header().flags() & TcpPdu.FLAG_SUCCESS) != 0
                        && !complete(reader.c2hData().cccid(), 0, 0)) {
                    protocolError("C2HData SUCCESS for command " + reader.c2hData().cccid() + " not outstanding");
                }
            }
            case PduType.R2T -> onR2t();
            case PduType.C2H_TERM_REQ -> transportFailed("controller " + describe() + " terminated the connection: FES "
                    + reader.termReq().fes() + " FEI " + reader.termReq().fei());
            default -> protocolError("unexpected PDU type " + reader.type());
        }
    }

    private void onIcResp() {
        boolean hd = reader.icResp().headerDigestEnable();
        boolean dd = reader.icResp().dataDigestEnable();
        if ((hd && !config().headerDigest()) || (dd && !config().dataDigest())) {
            protocolError("controller enabled a digest the host did not ask for");
            return;
        }
        maxH2CData = reader.icResp().maxh2cdata();
        reader.negotiated(hd, dd, 0);
        enc.negotiated(hd, dd, reader.icResp().cpda());
        link = Link.READY;
        transportReady();
    }

    private void onR2t() {
        int cid = reader.r2t().cccid();
        long r2to = reader.r2t().r2to();
        long r2tl = reader.r2t().r2tl();
        HostRequest r = outstanding(cid);
        if (r == null || !r.toController() || r2tActive[cid] || r2tl == 0 || r2to + r2tl > r.length()) {
            protocolError("R2T for command " + cid + " that does not expect it");
            return;
        }
        r2tActive[cid] = true;
        r2tTtag[cid] = reader.r2t().ttag();
        r2tNext[cid] = r2to;
        r2tEnd[cid] = r2to + r2tl;
        r2tRing[(r2tHead + r2tCount++) % r2tRing.length] = cid;
    }

    /**
     * Queues H2CData for the R2Ts in line, each PDU at most MAXH2CDATA (and, where its data is copied, what the send
     * buffer takes).
     */
    private void sendR2tData() {
        long copyMax = Math.min(maxH2CData, tx.byteSize() - 256);
        while (r2tCount > 0) {
            int cid = r2tRing[r2tHead];
            HostRequest r = outstanding(cid);
            if (!r2tActive[cid] || r == null) {
                r2tActive[cid] = false;
                r2tHead = (r2tHead + 1) % r2tRing.length;
                r2tCount--;
                continue;
            }
            long from = r2tNext[cid];
            int chunk = (int) Math.min(r2tEnd[cid] - from, maxH2CData);
            boolean byReference = canReference(r, from, chunk);
            if (!byReference) {
                chunk = (int) Math.min(chunk, copyMax);
            }
            if (!room(inlineLength(PduType.DATA_HLEN, chunk, byReference))) {
                return;
            }
            boolean last = from + chunk == r2tEnd[cid];
            int at = txEnd;
            enc.h2cData(tx, at, cid, r2tTtag[cid], from, null, 0, chunk, last);
            appendData(r, from, chunk, at, PduType.DATA_HLEN, byReference);
            r2tNext[cid] = from + chunk;
            if (last) {
                r2tActive[cid] = false;
                r2tHead = (r2tHead + 1) % r2tRing.length;
                r2tCount--;
            }
        }
    }

    /** R2T data, then waiting commands, then one write; again while a write made room for more. */
    private void pump() {
        for (int i = 0; i < 4 && socket != null && link != Link.TCP_CONNECTING; i++) {
            sendR2tData();
            drainPending();
            long before = unsent();
            if (before == 0 || !flush() || unsent() == before) {
                return;
            }
        }
    }

    /** Bytes waiting for the socket: the send buffer's and the queued references'. */
    private long unsent() {
        return txEnd - txStart + refBytes;
    }

    /** One write of what is pending; false when the connection failed. */
    private boolean flush() {
        if (unsent() == 0) {
            return true;
        }
        long n = gatherAndSend();
        if (n == -Libc.EAGAIN) {
            n = 0;
        } else if (n < 0) {
            transportFailed("send to " + describe() + " failed: " + Libc.strerror((int) -n));
            return false;
        }
        consume(n);
        if (unsent() == 0) {
            txStart = 0;
            txEnd = 0;
            setInterest(SelectionKey.OP_READ);
        } else {
            setInterest(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
        if (heldCount > 0) {
            completeHeld();
        }
        return true;
    }

    /** One {@code sendmsg} of the send buffer's bytes with the referenced data between them, in order. */
    private long gatherAndSend() {
        gather.clear();
        long base = tx.address();
        long pos = txStart;
        for (int i = 0; i < refCount; i++) {
            int k = (refHead + i) % refAt.length;
            if (refAt[k] > pos) {
                gather.add(base + pos, refAt[k] - pos);
                pos = refAt[k];
            }
            gather.add(refAddr[k], refLen[k]);
        }
        if (txEnd > pos) {
            gather.add(base + pos, txEnd - pos);
        }
        return gather.send(fd);
    }

    /** Advances past {@code n} written bytes: the send buffer's, then each reference's as the stream reaches it. */
    private void consume(long n) {
        while (n > 0) {
            long inline = (refCount > 0 ? refAt[refHead] : txEnd) - txStart;
            if (inline > 0) {
                long step = Math.min(n, inline);
                txStart += (int) step;
                n -= step;
                continue;
            }
            int k = refHead;
            long step = Math.min(n, refLen[k]);
            refAddr[k] += step;
            refLen[k] -= step;
            refBytes -= step;
            n -= step;
            if (refLen[k] == 0) {
                refHead = (k + 1) % refAt.length;
                refCount--;
                refsOf[refCid[k]]--;
            }
        }
    }

    /** Total send-buffer bytes of a PDU whose {@code dataLength} bytes of data go by reference or are copied in. */
    private long inlineLength(int hlen, int dataLength, boolean byReference) {
        return byReference ? enc.dataOffset(hlen) + (enc.dataDigest() ? 4 : 0) : enc.pduLength(hlen, dataLength);
    }

    /**
     * Whether {@code n} bytes of {@code r}'s data from data offset {@code from} can be queued by reference: their
     * segments are native memory and there are reference slots for them.
     */
    private boolean canReference(HostRequest r, long from, long n) {
        int pieces = 0;
        long end = from + n;
        long segStart = 0;
        for (int i = 0; i < r.segmentCount() && segStart < end; i++) {
            long segEnd = segStart + r.segmentLength(i);
            if (segEnd > from) {
                if (!r.segment(i).isNative()) {
                    return false;
                }
                pieces++;
            }
            segStart = segEnd;
        }
        return pieces <= refAt.length - refCount;
    }

    /**
     * Appends the data of the PDU whose header was just encoded at {@code at}: copied in and digested, or queued by
     * reference after the header with its digest (computed over the request's segments) in the send buffer.
     */
    private void appendData(HostRequest r, long from, int n, int at, int hlen, boolean byReference) {
        int dataAt = at + enc.dataOffset(hlen);
        if (!byReference) {
            r.copyOut(from, tx, dataAt, n);
            enc.sealDataDigest(tx, at);
            txEnd = (int) (at + enc.pduLength(hlen, n));
            return;
        }
        txEnd = dataAt;
        boolean digest = enc.dataDigest();
        if (digest) {
            dataCrc.reset();
        }
        long end = from + n;
        long segStart = 0;
        for (int i = 0; i < r.segmentCount() && segStart < end; i++) {
            long segEnd = segStart + r.segmentLength(i);
            if (segEnd > from) {
                long skip = Math.max(0, from - segStart);
                long take = Math.min(segEnd, end) - segStart - skip;
                MemorySegment seg = r.segment(i);
                long off = r.segmentOffset(i) + skip;
                if (digest) {
                    dataCrc.update(seg, off, take);
                }
                int k = (refHead + refCount++) % refAt.length;
                refAt[k] = txEnd;
                refAddr[k] = seg.address() + off;
                refLen[k] = take;
                refCid[k] = r.cid();
                refBytes += take;
                refsOf[r.cid()]++;
            }
            segStart = segEnd;
        }
        if (digest) {
            tx.set(DIGEST, txEnd, dataCrc.value());
            txEnd += 4;
        }
    }

    /** A response for a command whose data is still queued: it completes once that data has been written. */
    private void holdResponse(int cid, int status, long result) {
        if (held[cid]) {
            protocolError("a second CapsuleResp for command " + cid);
            return;
        }
        held[cid] = true;
        heldStatus[cid] = status;
        heldResult[cid] = result;
        heldCount++;
    }

    private void completeHeld() {
        for (int cid = 0; cid < held.length && heldCount > 0 && socket != null; cid++) {
            if (held[cid] && refsOf[cid] == 0) {
                held[cid] = false;
                heldCount--;
                complete(cid, heldStatus[cid], heldResult[cid]);
            }
        }
    }

    /** Whether {@code n} more bytes fit in the send buffer, compacting it if that makes room. */
    private boolean room(long n) {
        if (tx.byteSize() - txEnd >= n) {
            return true;
        }
        if (txStart > 0) {
            MemorySegment.copy(tx, txStart, tx, 0, txEnd - txStart);
            for (int i = 0; i < refCount; i++) {
                refAt[(refHead + i) % refAt.length] -= txStart;
            }
            txEnd -= txStart;
            txStart = 0;
        }
        return tx.byteSize() - txEnd >= n;
    }

    private void setInterest(int ops) {
        if (ops != interest && watch != null) {
            interest = ops;
            watch.interest(ops);
        }
    }

    private void protocolError(String why) {
        transportFailed("protocol error from " + describe() + ": " + why);
    }

    private void closeSocket() {
        link = Link.CLOSED;
        c2h = null;
        c2hDirect = false;
        fd = -1;
        r2tCount = 0;
        Arrays.fill(r2tActive, false);
        refHead = 0; // the requests' buffers are theirs again: their commands are about to be aborted
        refCount = 0;
        refBytes = 0;
        Arrays.fill(refsOf, 0);
        Arrays.fill(held, false);
        heldCount = 0;
        if (watch != null) {
            watch.cancel();
            watch = null;
        }
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            socket = null;
        }
        txStart = 0;
        txEnd = 0;
    }

    private String describe() {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
