package io.keel.nvme.host;

import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvme.spec.FeatureId;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.LogPageId;
import io.keel.nvme.spec.NamespaceIdList;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small NVMe/TCP controller for tests, written on the keel-nvme codec only: blocking sockets, one thread per
 * connection, one namespace backed by memory. Knobs choose how it answers: IOCCSZ (so writes go in the capsule
 * or through R2T), MAXH2CDATA, C2HData with SUCCESS or a CapsuleResp, the C2HData chunk size, and whether it
 * ever answers the ICReq. Counters tell tests which path was taken.
 *
 * <p>Connected to the discovery NQN it is a discovery controller (CNTRLTYPE 2, Discovery Log Page Change notices
 * supported) serving a Discovery Log Page of {@link #discoveryRecords} NVM subsystem entries at generation
 * {@link #discoveryGenctr}; {@link #changeLogAfterReads} makes the log change in the middle of a host's read, and
 * {@link #raiseDiscoveryChange} answers a held AER with the notice at the connection's next command.
 */
final class FakeController implements AutoCloseable {
    static final String NQN = "nqn.2024-11.io.keel:fake";
    static final int CNTLID = 7;

    int ioccsz = 4 + 4096 / 16;
    long maxH2CData = 4096;
    boolean c2hSuccess = true;
    int c2hChunk = 1 << 20;
    /** Above 0: every PDU leaves in writes of this many bytes with a pause after each, so the host reads it in pieces. */
    volatile int sendPiece;
    boolean answerIcReq = true;
    /** Reads are taken and never answered (a hung device). */
    volatile boolean holdReads;
    /** Above 0: the connection reads at most this many bytes at a time with a pause after each (a slow reader). */
    volatile int readPiece;
    /** Not 0: a write through R2T is answered with this status as soon as its first H2CData header is read. */
    volatile int earlyWriteStatus;
    /** H2CData PDUs whose data was received in full. */
    final AtomicInteger h2cPdus = new AtomicInteger();
    final long blocks;
    final int blockSize;
    final MemorySegment store;

    final AtomicInteger r2ts = new AtomicInteger();
    final AtomicInteger inCapsuleWrites = new AtomicInteger();
    final AtomicInteger successFlagReads = new AtomicInteger();
    final AtomicInteger keepAlives = new AtomicInteger();
    final AtomicInteger connects = new AtomicInteger();
    final AtomicInteger aers = new AtomicInteger();
    volatile String lastHostNqn;
    volatile boolean digestsSeen;

    volatile long discoveryGenctr = 1;
    volatile int discoveryRecords = 2;
    /** After this many more Get Log Page commands, one entry is added (and the generation moves); -1: never. */
    final AtomicInteger changeLogAfterReads = new AtomicInteger(-1);
    final AtomicInteger logPageReads = new AtomicInteger();
    /** CDW11 of the last Set Features Asynchronous Event Configuration. */
    volatile int lastAsyncEventConfig;
    volatile boolean raiseDiscoveryChange;
    /** False: Get Log Page commands are never answered. */
    volatile boolean answerLogPages = true;

    private final Arena arena = Arena.ofShared();
    private final ServerSocketChannel server;
    private final List<SocketChannel> conns = new ArrayList<>();
    private volatile int cc;

    FakeController(long blocks, int blockSize) throws IOException {
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.store = arena.allocate(blocks * blockSize, 4096);
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        Thread t = new Thread(this::acceptLoop, "fake-ctrl-accept");
        t.setDaemon(true);
        t.start();
    }

    /** The last CC the host set. */
    int lastCc() {
        return cc;
    }

    TransportId trid() throws IOException {
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        return TransportId.parse("trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" + port + " subnqn:" + NQN);
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel ch = server.accept();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true); // a piece leaves as soon as it is written
                synchronized (conns) {
                    conns.add(ch);
                }
                Thread t = new Thread(() -> serve(ch), "fake-ctrl-conn");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException closed) {
            // server closed
        }
    }

    private void serve(SocketChannel ch) {
        try (Arena a = Arena.ofConfined()) {
            new Connection(ch, a).run();
        } catch (IOException | RuntimeException e) {
            // the host went away or the test is over
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (conns) {
            for (SocketChannel c : conns) {
                c.close();
            }
        }
    }

    /** One queue pair's connection. */
    private final class Connection {
        private final SocketChannel ch;
        private final PduReader rd = new PduReader(PduReader.Role.CONTROLLER, 1 << 22);
        private final PduEncoder enc = new PduEncoder();
        private final MemorySegment in;
        private final ByteBuffer inBuf;
        private final MemorySegment out;
        private final MemorySegment capsuleData;
        private final MemorySegment cqeBuf;
        private final Cqe cqe = new Cqe();
        private final Sqe sqe = new Sqe();
        private final MemorySegment[] writeData = new MemorySegment[1 << 16];
        private final long[] writeAt = new long[1 << 16];
        private final int[] writeLen = new int[1 << 16];
        private final boolean[] answered = new boolean[1 << 16];
        private final List<Integer> heldAers = new ArrayList<>();
        private int qid;
        private boolean discovery;

        Connection(SocketChannel ch, Arena a) {
            this.ch = ch;
            in = a.allocate(64 << 10);
            inBuf = in.asByteBuffer();
            out = a.allocate(4 << 20);
            capsuleData = a.allocate(1 << 20);
            cqeBuf = a.allocate(Cqe.SIZE);
            cqe.wrap(cqeBuf);
        }

        void run() throws IOException {
            while (true) {
                int piece = readPiece;
                inBuf.clear().limit(piece > 0 ? Math.min(piece, inBuf.capacity()) : inBuf.capacity());
                int n = ch.read(inBuf);
                if (n < 0) {
                    return;
                }
                if (piece > 0) {
                    LockSupport.parkNanos(20_000);
                }
                long pos = 0;
                while (true) {
                    PduReader.Event e = rd.decode(in, pos, n - pos);
                    pos += rd.consumed();
                    if (e == PduReader.Event.NEED_MORE) {
                        break;
                    }
                    switch (e) {
                        case HEADER -> onHeader();
                        case END -> onPdu();
                        default -> throw new IOException("fake controller: " + e + " " + rd.errorReason());
                    }
                }
            }
        }

        private void onHeader() throws IOException {
            if (rd.type() == PduType.CAPSULE_CMD && rd.hasData()) {
                rd.readDataInto(capsuleData, 0);
            } else if (rd.type() == PduType.H2C_DATA) {
                int cid = rd.h2cData().cccid();
                rd.readDataInto(writeData[cid], rd.h2cData().datao());
                int early = earlyWriteStatus;
                if (early != 0 && rd.h2cData().datao() == 0) {
                    answered[cid] = true;
                    respond(cid, early, 0);
                }
            }
        }

        private void onPdu() throws IOException {
            switch (rd.type()) {
                case PduType.IC_REQ -> {
                    if (!answerIcReq) {
                        return;
                    }
                    boolean h = rd.icReq().headerDigestEnable();
                    boolean d = rd.icReq().dataDigestEnable();
                    digestsSeen |= h || d;
                    int len = enc.icResp(out, 0, 0, 0, h, d, maxH2CData);
                    send(len);
                    rd.negotiated(h, d, 0).maxH2CData(maxH2CData);
                    enc.negotiated(h, d, rd.icReq().hpda());
                }
                case PduType.CAPSULE_CMD -> {
                    command();
                    if (raiseDiscoveryChange && discovery && !heldAers.isEmpty()) {
                        raiseDiscoveryChange = false;
                        respond(heldAers.removeFirst(), Status.SUCCESS, 2 | 0xF0 << 8 | LogPageId.DISCOVERY << 16);
                    }
                }
                case PduType.H2C_DATA -> {
                    h2cPdus.incrementAndGet();
                    if (rd.h2cData().lastPdu()) {
                        int cid = rd.h2cData().cccid();
                        MemorySegment.copy(writeData[cid], 0, store, writeAt[cid], writeLen[cid]);
                        if (!answered[cid]) {
                            respond(cid, Status.SUCCESS, 0);
                        }
                        answered[cid] = false;
                    }
                }
                default -> throw new IOException("fake controller: unexpected PDU " + rd.type());
            }
        }

        private void command() throws IOException {
            sqe.wrap(rd.sqe());
            int cid = sqe.cid();
            if (sqe.fabrics().isFabrics()) {
                fabrics(cid);
                return;
            }
            if (qid == 0) {
                admin(cid);
                return;
            }
            long at = sqe.rw().slba() * blockSize;
            int len = sqe.rw().blockCount() * blockSize;
            if (sqe.rw().slba() + sqe.rw().blockCount() > blocks || len != sqe.sgl().length()) {
                respond(cid, Status.LBA_OUT_OF_RANGE, 0);
                return;
            }
            switch (sqe.opcode()) {
                case Opcode.READ -> {
                    if (!holdReads) {
                        read(cid, at, len);
                    }
                }
                case Opcode.WRITE -> {
                    if (rd.dataLength() > 0) {
                        inCapsuleWrites.incrementAndGet();
                        MemorySegment.copy(capsuleData, 0, store, at, len);
                        respond(cid, Status.SUCCESS, 0);
                    } else {
                        r2ts.incrementAndGet();
                        if (writeData[cid] == null || writeData[cid].byteSize() < len) {
                            writeData[cid] = Arena.ofAuto().allocate(len);
                        }
                        writeAt[cid] = at;
                        writeLen[cid] = len;
                        send(enc.r2t(out, 0, cid, cid, 0, len));
                    }
                }
                default -> respond(cid, Status.INVALID_OPCODE, 0);
            }
        }

        private void read(int cid, long at, int len) throws IOException {
            for (int done = 0; done < len; ) {
                int chunk = Math.min(c2hChunk, len - done);
                boolean last = done + chunk == len;
                send(enc.c2hData(out, 0, cid, 0, done, store, at + done, chunk, last, last && c2hSuccess));
                done += chunk;
            }
            if (c2hSuccess) {
                successFlagReads.incrementAndGet();
            } else {
                respond(cid, Status.SUCCESS, 0);
            }
        }

        private void fabrics(int cid) throws IOException {
            switch (sqe.fabrics().fctype()) {
                case Opcode.Fabrics.CONNECT -> {
                    connects.incrementAndGet();
                    ConnectData cd = new ConnectData().wrap(capsuleData);
                    qid = sqe.connect().qid();
                    lastHostNqn = cd.hostnqn();
                    discovery = cd.subnqn().equals(DiscoveryLog.DISCOVERY_NQN);
                    boolean ok = (cd.subnqn().equals(NQN) || discovery) && (qid == 0 || cd.cntlid() == CNTLID);
                    respond(cid, ok ? Status.SUCCESS : Status.CONNECT_INVALID_PARAMETERS, ok ? CNTLID : 0);
                }
                case Opcode.Fabrics.PROPERTY_GET -> {
                    long v = switch (sqe.property().ofst()) {
                        case Properties.CAP -> Properties.Cap.of(127, true, 0, 1, 0, false, 1, 0, 0);
                        case Properties.CC -> cc;
                        case Properties.CSTS -> (Properties.Cc.en(cc) ? Properties.Csts.RDY : 0)
                                | (Properties.Cc.shn(cc) != 0 ? 2 << 2 : 0); // SHST complete
                        case Properties.VS -> Properties.VS_1_3;
                        default -> 0;
                    };
                    respond(cid, Status.SUCCESS, v);
                }
                case Opcode.Fabrics.PROPERTY_SET -> {
                    if (sqe.property().ofst() == Properties.CC) {
                        cc = (int) sqe.property().value();
                    }
                    respond(cid, Status.SUCCESS, 0);
                }
                default -> respond(cid, Status.INVALID_OPCODE, 0);
            }
        }

        private void admin(int cid) throws IOException {
            switch (sqe.opcode()) {
                case Opcode.IDENTIFY -> {
                    MemorySegment page = capsuleData.asSlice(0, 4096).fill((byte) 0);
                    if (sqe.identify().cns() == 1) {
                        IdentifyController id = new IdentifyController().wrap(page).cntlid(CNTLID).ioccsz(ioccsz)
                                .iorcsz(1).icdoff(0).sqes(6, 6).cqes(4, 4);
                        if (discovery) {
                            id.cntrltype(IdentifyController.CNTRLTYPE_DISCOVERY)
                                    .oaes(IdentifyController.OAES_DISCOVERY_LOG_CHANGE).aerl(3);
                        }
                    } else if (sqe.identify().cns() == 2) {
                        new NamespaceIdList().wrap(page).nsid(0, 1);
                    } else {
                        new IdentifyNamespace().wrap(page).nsze(blocks).ncap(blocks).nuse(blocks).nlbaf(0)
                                .lbaf(0, 0, Integer.numberOfTrailingZeros(blockSize), 0);
                    }
                    send(enc.c2hData(out, 0, cid, 0, 0, page, 0, 4096, true, true));
                }
                case Opcode.SET_FEATURES -> {
                    if (sqe.features().fid() == FeatureId.ASYNC_EVENT_CONFIGURATION) {
                        lastAsyncEventConfig = sqe.cdw11();
                    }
                    respond(cid, Status.SUCCESS, sqe.cdw11());
                }
                case Opcode.GET_LOG_PAGE -> getLogPage(cid);
                case Opcode.ASYNC_EVENT_REQUEST -> { // held until an event is raised
                    aers.incrementAndGet();
                    heldAers.add(cid);
                }
                case Opcode.KEEP_ALIVE -> {
                    keepAlives.incrementAndGet();
                    respond(cid, Status.SUCCESS, 0);
                }
                default -> respond(cid, Status.INVALID_OPCODE, 0);
            }
        }

        private void getLogPage(int cid) throws IOException {
            Sqe.GetLogPage g = sqe.getLogPage();
            if (!discovery || g.lid() != LogPageId.DISCOVERY) {
                respond(cid, Status.INVALID_LOG_PAGE, 0);
                return;
            }
            logPageReads.incrementAndGet();
            if (!answerLogPages) {
                return;
            }
            int records = discoveryRecords;
            MemorySegment log = MemorySegment.ofArray(new byte[(int) DiscoveryLog.pageSize(records)]);
            DiscoveryLog h = new DiscoveryLog().wrap(log).genctr(discoveryGenctr).numrec(records).recfmt(0);
            DiscoveryLog.Entry e = new DiscoveryLog.Entry();
            for (int i = 0; i < records; i++) {
                h.entry(e, i).trtype(DiscoveryLog.TRTYPE_TCP).adrfam(DiscoveryLog.ADRFAM_IPV4)
                        .subtype(DiscoveryLog.SUBTYPE_NVM).treq(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED).portid(i)
                        .cntlid(0xFFFF).asqsz(32).trsvcid(Integer.toString(4420 + i)).subnqn(NQN + i)
                        .traddr("127.0.0.1");
            }
            if (changeLogAfterReads.getAndDecrement() == 1) {
                discoveryRecords = records + 1;
                discoveryGenctr++;
            }
            int len = (int) g.lengthBytes();
            MemorySegment data = MemorySegment.ofArray(new byte[len]);
            long from = g.lpo();
            if (from < log.byteSize()) {
                MemorySegment.copy(log, from, data, 0, Math.min(len, log.byteSize() - from));
            }
            send(enc.c2hData(out, 0, cid, 0, 0, data, 0, len, true, true));
        }

        private void respond(int cid, int status, long dw01) throws IOException {
            cqeBuf.fill((byte) 0);
            cqe.cid(cid).sqid(qid).dw01(dw01).status(status, false);
            send(enc.capsuleResp(out, 0, cqeBuf, 0));
        }

        private void send(int len) throws IOException {
            int piece = sendPiece > 0 ? sendPiece : len;
            for (int at = 0; at < len; at += piece) {
                ByteBuffer b = out.asSlice(at, Math.min(piece, len - at)).asByteBuffer();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                if (piece < len) {
                    LockSupport.parkNanos(50_000);
                }
            }
        }
    }
}
