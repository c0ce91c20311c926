package io.keel.nvmf.tcp;

import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.UUID;

/**
 * A blocking NVMe/TCP host over a real socket, for integration tests: sends capsules (in-capsule data or
 * R2T-driven H2CData) and reads the target's PDUs one at a time with a host-role {@link PduReader}. Simple and
 * synchronous on purpose: each test reads as a scenario.
 */
final class SocketHost implements AutoCloseable {
    static final String HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    static final UUID HOSTID = UUID.fromString("11111111-2222-3333-4444-555555555555");

    /** Every read waits at most this long: a target that never answers fails the test instead of hanging it. */
    static final int READ_TIMEOUT_MS = 15_000;

    Socket socket;
    private InputStream inStream;
    private OutputStream outStream;
    private final byte[] io = new byte[1 << 20];
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment tx = arena.allocate(1 << 20, 8);
    private final MemorySegment rxSeg = arena.allocate(1 << 20, 8);
    private final PduEncoder enc = new PduEncoder();
    private final PduReader rd = new PduReader(PduReader.Role.HOST, 1 << 20);
    private final Sqe sqe = new Sqe();
    private final MemorySegment sqeBuf = arena.allocate(64, 8);
    private final ArrayDeque<TestHost.Pdu> ready = new ArrayDeque<>();
    private long rxPos;
    private long rxEnd;
    private byte[] pduData;
    private ByteArrayOutputStream corked;

    SocketHost(int port) throws IOException {
        sqe.wrap(sqeBuf, 0);
        open(port);
    }

    private void open(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        inStream = socket.getInputStream();
        outStream = socket.getOutputStream();
    }

    /** Closes this connection (with a reset: no TIME_WAIT left by churn tests) and opens a new one, as new. */
    void reopen(int port) throws IOException {
        closeSocket();
        rd.reset();
        enc.negotiated(false, false, 0);
        ready.clear();
        rxPos = 0;
        rxEnd = 0;
        open(port);
    }

    /** ICReq → ICResp; configures digests as negotiated. */
    TestHost.Pdu ic(boolean hdgst, boolean ddgst) throws IOException {
        send(enc.icReq(tx, 0, 0, 0, hdgst, ddgst, 0));
        TestHost.Pdu ic = next();
        if (ic.type() != PduType.IC_RESP) {
            throw new AssertionError("expected ICResp, got " + ic);
        }
        boolean h = (ic.icDgst() & 1) != 0;
        boolean d = (ic.icDgst() & 2) != 0;
        rd.negotiated(h, d, 0);
        enc.negotiated(h, d, ic.icCpda());
        return ic;
    }

    /** A cleared SQE with an SGL descriptor, to be filled by the caller and sent by {@link #submit}. */
    Sqe sqe(int opcode, int cid, int nsid) {
        sqe.clear();
        sqe.opcode(opcode).psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS).cid(cid).nsid(nsid);
        return sqe;
    }

    /** Sets CDW11 of the SQE being built. */
    void sqeCdw11(int v) {
        sqe.cdw11(v);
    }

    Sqe fabrics(int fctype, int cid) {
        sqe.clear();
        sqe.fabrics().init(fctype, cid);
        sqe.psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        return sqe;
    }

    /** Sends the SQE built with {@link #sqe}: with {@code icd} in the capsule, else a transport SGL of {@code length}. */
    void submit(byte[] icd, long length) throws IOException {
        if (icd != null) {
            sqe.sgl().identifier(SglDescriptor.ID_IN_CAPSULE).length(icd.length).address(0);
            send(enc.capsuleCmd(tx, 0, sqeBuf, 0, MemorySegment.ofArray(icd), 0, icd.length));
        } else {
            sqe.sgl().identifier(SglDescriptor.ID_TRANSPORT).length(length).address(0);
            send(enc.capsuleCmd(tx, 0, sqeBuf, 0, null, 0, 0));
        }
    }

    /** Answers H2CData for an R2T from {@code data}. */
    void h2c(TestHost.Pdu r2t, byte[] data) throws IOException {
        int n = enc.h2cData(tx, 0, r2t.cccid(), r2t.ttag(), r2t.r2to(), MemorySegment.ofArray(data), r2t.r2to(),
                (int) r2t.r2tl(), true);
        send(n);
    }

    void sendRaw(byte[] bytes) throws IOException {
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, tx, 0, bytes.length);
        send(bytes.length);
    }

    /** From now until {@link #uncork}, PDUs are gathered instead of sent: the target gets them in one segment. */
    void cork() {
        corked = new ByteArrayOutputStream();
    }

    void uncork() throws IOException {
        byte[] b = corked.toByteArray();
        corked = null;
        outStream.write(b);
        outStream.flush();
    }

    private void send(long n) throws IOException {
        MemorySegment.copy(tx, 0, MemorySegment.ofArray(io), 0, n);
        if (corked != null) {
            corked.write(io, 0, (int) n);
            return;
        }
        outStream.write(io, 0, (int) n);
        outStream.flush();
    }

    /** The next PDU from the target (blocking); null when the target closed the connection. */
    TestHost.Pdu next() throws IOException {
        while (ready.isEmpty()) {
            if (rxPos == rxEnd) {
                int n = inStream.read(io);
                if (n < 0) {
                    return null;
                }
                MemorySegment.copy(MemorySegment.ofArray(io), 0, rxSeg, 0, n);
                rxPos = 0;
                rxEnd = n;
            }
            decode();
        }
        return ready.poll();
    }

    /** Decodes until the reader needs more bytes (END may come after the last byte was consumed). */
    private void decode() {
        while (true) {
            PduReader.Event e = rd.decode(rxSeg, rxPos, rxEnd - rxPos);
            rxPos += rd.consumed();
            switch (e) {
                case NEED_MORE -> {
                    return;
                }
                case HEADER -> {
                    pduData = null;
                    if (rd.hasData()) {
                        pduData = new byte[(int) rd.dataLength()];
                        rd.readDataInto(MemorySegment.ofArray(pduData), 0);
                    }
                }
                case DATA -> { }
                case END, DATA_DIGEST_ERROR -> ready.add(TestHost.pdu(rd, pduData,
                        e == PduReader.Event.DATA_DIGEST_ERROR));
                case ERROR -> throw new AssertionError("target sent a bad PDU: " + rd.errorReason());
                default -> throw new AssertionError(e);
            }
        }
    }

    /** The next CapsuleResp, collecting C2HData payloads of {@code into} (may be null) on the way. */
    TestHost.Pdu response(byte[] into) throws IOException {
        while (true) {
            TestHost.Pdu p = next();
            if (p == null) {
                throw new AssertionError("connection closed while waiting for a response");
            }
            if (p.type() == PduType.C2H_DATA) {
                if (into != null) {
                    System.arraycopy(p.data(), 0, into, (int) p.datao(), p.data().length);
                }
                if (p.success()) {
                    return p; // c2h_success: the C2HData is the response
                }
                continue;
            }
            return p;
        }
    }

    // ---- conveniences ----

    /** Fabrics Connect of queue {@code qid}; answers the response (cntlid in DW0). */
    TestHost.Pdu connect(int qid, int sqsize, int kato, String subnqn, String hostnqn, int cntlid) throws IOException {
        byte[] data = new byte[ConnectData.SIZE];
        new ConnectData().wrap(MemorySegment.ofArray(data), 0).hostId(HOSTID).cntlid(cntlid).subnqn(subnqn)
                .hostnqn(hostnqn);
        fabrics(Opcode.Fabrics.CONNECT, 1).connect().qid(qid).sqsize(sqsize).kato(kato);
        submit(data, 0);
        return response(null);
    }

    TestHost.Pdu propertySet(int ofst, int size, long value) throws IOException {
        fabrics(Opcode.Fabrics.PROPERTY_SET, 2).property().sizeBytes(size).ofst(ofst).value(value);
        submit(null, 0);
        return response(null);
    }

    TestHost.Pdu propertyGet(int ofst, int size) throws IOException {
        fabrics(Opcode.Fabrics.PROPERTY_GET, 3).property().sizeBytes(size).ofst(ofst);
        submit(null, 0);
        return response(null);
    }

    /** Writes {@code data} at {@code slba} with in-capsule data ({@code inCapsule}) or through R2T. */
    TestHost.Pdu write(int cid, int nsid, long slba, int blocks, byte[] data, boolean inCapsule) throws IOException {
        sqe(Opcode.WRITE, cid, nsid).rw().slba(slba).blockCount(blocks);
        if (inCapsule) {
            submit(data, 0);
            return response(null);
        }
        submit(null, data.length);
        while (true) {
            TestHost.Pdu p = next();
            if (p == null) {
                throw new AssertionError("connection closed during a write");
            }
            if (p.type() != PduType.R2T) {
                return p;
            }
            h2c(p, data);
        }
    }

    TestHost.Pdu read(int cid, int nsid, long slba, int blocks, byte[] into) throws IOException {
        sqe(Opcode.READ, cid, nsid).rw().slba(slba).blockCount(blocks);
        submit(null, into.length);
        return response(into);
    }

    /** Closes the connection with a reset (no TIME_WAIT); {@link #reopen} may follow. */
    void closeSocket() throws IOException {
        if (!socket.isClosed()) {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        arena.close();
    }
}
