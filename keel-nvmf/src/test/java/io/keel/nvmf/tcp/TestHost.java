package io.keel.nvmf.tcp;

import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import io.keel.nvme.tcp.TcpPdu;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory NVMe/TCP host for tests: encodes PDUs with a host-role {@link PduEncoder}, feeds them to the
 * connection in a chosen split, and is also the connection's {@link PduSink}, decoding what it sent with a
 * host-role {@link PduReader}.
 */
final class TestHost implements PduSink {
    /** One PDU the target sent, decoded. */
    record Pdu(int type, int flags, int cccid, int ttag, long datao, long datal, long r2to, long r2tl, int cid,
            int sqhd, int status, int dw0, int fes, long fei, int icPfv, int icCpda, int icDgst, long icMaxh2c,
            byte[] data, boolean dataDigestError) {
        boolean last() {
            return (flags & TcpPdu.FLAG_LAST_PDU) != 0;
        }

        boolean success() {
            return (flags & TcpPdu.FLAG_SUCCESS) != 0;
        }

        /** SCT << 8 | SC of a CapsuleResp. */
        int statusCode() {
            return (status >>> 9 & 0x7) << 8 | (status >>> 1 & 0xFF);
        }

        boolean dnr() {
            return (status & 0x8000) != 0;
        }
    }

    final Arena arena;
    final MemorySegment out;
    long outPos;
    final MemorySegment tx;
    final PduEncoder enc = new PduEncoder();
    final PduReader rd = new PduReader(PduReader.Role.HOST, 1 << 21);
    TcpQpairConnection conn;
    /** Bytes per onBytes call (0: all at once). */
    int split;
    private final Sqe sqe = new Sqe();
    private final MemorySegment sqeBuf;

    TestHost(Arena arena) {
        this.arena = arena;
        this.out = arena.allocate(4 << 20, 8);
        this.tx = arena.allocate(4 << 20, 8);
        this.sqeBuf = arena.allocate(64, 8);
        sqe.wrap(sqeBuf, 0);
    }

    @Override
    public long claim(int length) {
        if (outPos + length > out.byteSize()) {
            throw new IllegalStateException("test sink full");
        }
        return outPos;
    }

    @Override
    public MemorySegment buffer() {
        return out;
    }

    @Override
    public void commit(long offset, int length) {
        outPos = offset + length;
    }

    /** Feeds {@code length} bytes of {@link #tx} from 0 to the connection in {@link #split}-sized pieces. */
    void feed(long length) {
        feed(tx, 0, length);
    }

    void feed(MemorySegment src, long from, long length) {
        long step = split <= 0 ? length : split;
        for (long p = 0; p < length; p += step) {
            conn.onBytes(src, from + p, Math.min(step, length - p));
        }
    }

    /** ICReq, then the ICResp decoded; configures the host side for what was negotiated. */
    Pdu connect(boolean hdgst, boolean ddgst, int hpda) {
        int n = enc.icReq(tx, 0, 0, hpda, hdgst, ddgst, 0);
        feed(n);
        List<Pdu> got = received();
        if (got.size() != 1 || got.get(0).type() != PduType.IC_RESP) {
            throw new AssertionError("expected one ICResp, got " + got);
        }
        Pdu ic = got.get(0);
        boolean h = (ic.icDgst() & 1) != 0;
        boolean d = (ic.icDgst() & 2) != 0;
        rd.negotiated(h, d, hpda);
        enc.negotiated(h, d, ic.icCpda());
        return ic;
    }

    /** Writes a 64-byte SQE (NVM opcode, SGL descriptor) for a CapsuleCmd. */
    MemorySegment sqe(int opcode, int cid, int sglId, long sglLength) {
        sqe.clear();
        sqe.opcode(opcode).psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS).cid(cid).nsid(1);
        sqe.sgl().identifier(sglId).length(sglLength).address(0);
        return sqeBuf;
    }

    /** Encodes a CapsuleCmd at {@code at} of tx; returns its length. */
    int capsule(long at, int opcode, int cid, int sglId, long sglLength, byte[] icd) {
        MemorySegment s = sqe(opcode, cid, sglId, sglLength);
        if (icd == null) {
            return enc.capsuleCmd(tx, at, s, 0, null, 0, 0);
        }
        return enc.capsuleCmd(tx, at, s, 0, MemorySegment.ofArray(icd), 0, icd.length);
    }

    int read(long at, int cid, long length) {
        return capsule(at, 0x02, cid, SglDescriptor.ID_TRANSPORT, length, null);
    }

    /** Decodes everything the connection sent since the last call. */
    List<Pdu> received() {
        List<Pdu> pdus = new ArrayList<>();
        long pos = 0;
        long end = outPos;
        byte[] data = null;
        while (true) {
            PduReader.Event e = rd.decode(out, pos, end - pos);
            pos += rd.consumed();
            switch (e) {
                case NEED_MORE -> {
                    if (pos != end) {
                        throw new AssertionError("reader stopped early");
                    }
                    outPos = 0;
                    return pdus;
                }
                case HEADER -> {
                    data = null;
                    if (rd.hasData()) {
                        data = new byte[(int) rd.dataLength()];
                        rd.readDataInto(MemorySegment.ofArray(data), 0);
                    }
                }
                case DATA -> throw new AssertionError("unexpected DATA event");
                case END, DATA_DIGEST_ERROR -> pdus.add(pdu(rd, data, e == PduReader.Event.DATA_DIGEST_ERROR));
                case ERROR -> throw new AssertionError("target sent a bad PDU: " + rd.errorReason() + " fes "
                        + rd.fes() + " fei " + rd.fei());
                default -> throw new AssertionError(e);
            }
        }
    }

    /** The PDU {@code rd} just finished decoding (host role), with its {@code data}. */
    static Pdu pdu(PduReader rd, byte[] data, boolean ddgstError) {
        int type = rd.type();
        int flags = rd.header().flags();
        return switch (type) {
            case PduType.IC_RESP -> new Pdu(type, flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rd.icResp().pfv(),
                    rd.icResp().cpda(), rd.icResp().dgst(), rd.icResp().maxh2cdata(), data, ddgstError);
            case PduType.C2H_TERM_REQ -> new Pdu(type, flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rd.termReq().fes(),
                    rd.termReq().fei(), 0, 0, 0, 0, data, ddgstError);
            case PduType.CAPSULE_RESP -> {
                Cqe c = new Cqe().wrap(rd.cqe());
                yield new Pdu(type, flags, 0, 0, 0, 0, 0, 0, c.cid(), c.sqhd(), c.statusField(), c.dw0(), 0, 0, 0, 0,
                        0, 0, data, ddgstError);
            }
            case PduType.C2H_DATA -> new Pdu(type, flags, rd.c2hData().cccid(), rd.c2hData().ttag(),
                    rd.c2hData().datao(), rd.c2hData().datal(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, data, ddgstError);
            case PduType.R2T -> new Pdu(type, flags, rd.r2t().cccid(), rd.r2t().ttag(), 0, 0, rd.r2t().r2to(),
                    rd.r2t().r2tl(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, data, ddgstError);
            default -> throw new AssertionError("unexpected type " + type);
        };
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }

    static byte[] bytes(MemorySegment s, long length) {
        return s.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }
}
