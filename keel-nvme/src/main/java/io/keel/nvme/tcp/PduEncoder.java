package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes complete NVMe/TCP PDUs (common header, type fields, header digest, zero padding up to PDO, data,
 * data digest) into a caller's buffer and returns the PDU length. Allocates nothing per PDU (see
 * {@link Crc32c} for the one view per new buffer segment).
 *
 * <p>Data arguments: pass the source segment to have the data copied in and digested; pass {@code null}
 * to leave the data region {@code [offset + pdo, offset + pdo + dataLength)} to the caller (write it in
 * place, or send it from its own buffer with a gathering write) and then call {@link #sealDataDigest}
 * when data digests are on. The caller must make sure {@code buf} has room: {@link #pduLength}.
 *
 * <p>Header and data digest use and the data alignment of sent PDUs follow what the connection
 * negotiated: {@link #negotiated}. ICReq, ICResp and TermReq never carry digests.
 */
public final class PduEncoder {
    private final Crc32c crc = new Crc32c();
    private final TcpPdu common = new TcpPdu();
    private final IcReqPdu icReq = new IcReqPdu();
    private final IcRespPdu icResp = new IcRespPdu();
    private final TermReqPdu termReq = new TermReqPdu();
    private final DataPdu h2cData = new H2CDataPdu();
    private final DataPdu c2hData = new C2HDataPdu();
    private final R2TPdu r2t = new R2TPdu();
    private boolean hdgst;
    private boolean ddgst;
    private int txAlignment = 4;

    /**
     * Sets what the connection negotiated. {@code txPda} is the 0's based dword alignment the peer asked
     * for the data of the PDUs we send: the controller's CPDA for a host, the host's HPDA for a controller.
     */
    public PduEncoder negotiated(boolean headerDigest, boolean dataDigest, int txPda) {
        if (txPda < 0 || txPda > 31) {
            throw new IllegalArgumentException("PDA out of range 0..31: " + txPda);
        }
        this.hdgst = headerDigest;
        this.ddgst = dataDigest;
        this.txAlignment = (txPda + 1) * 4;
        return this;
    }

    public boolean headerDigest() {
        return hdgst;
    }

    public boolean dataDigest() {
        return ddgst;
    }

    /** PDO of a digestible PDU with data and header length {@code hlen} under the negotiated settings. */
    public int dataOffset(int hlen) {
        int min = hlen + (hdgst ? 4 : 0);
        return (min + txAlignment - 1) / txAlignment * txAlignment;
    }

    /** Total length of a digestible PDU with header length {@code hlen} carrying {@code dataLength} bytes. */
    public long pduLength(int hlen, long dataLength) {
        if (dataLength == 0) {
            return hlen + (hdgst ? 4 : 0);
        }
        return dataOffset(hlen) + dataLength + (ddgst ? 4 : 0);
    }

    /** ICReq: 128 bytes, reserved bytes zeroed. */
    public int icReq(MemorySegment buf, long off, int pfv, int hpda, boolean hdgstEnable, boolean ddgstEnable,
            long maxr2t) {
        buf.asSlice(off, PduType.IC_HLEN).fill((byte) 0);
        icReq.wrap(buf, off).putCommonHeader(PduType.IC_REQ, 0, PduType.IC_HLEN, 0, PduType.IC_HLEN);
        icReq.pfv(pfv).hpda(hpda).dgst(dgst(hdgstEnable, ddgstEnable)).maxr2t(maxr2t);
        return PduType.IC_HLEN;
    }

    /** ICResp: 128 bytes, reserved bytes zeroed. */
    public int icResp(MemorySegment buf, long off, int pfv, int cpda, boolean hdgstEnable, boolean ddgstEnable,
            long maxh2cdata) {
        buf.asSlice(off, PduType.IC_HLEN).fill((byte) 0);
        icResp.wrap(buf, off).putCommonHeader(PduType.IC_RESP, 0, PduType.IC_HLEN, 0, PduType.IC_HLEN);
        icResp.pfv(pfv).cpda(cpda).dgst(dgst(hdgstEnable, ddgstEnable)).maxh2cdata(maxh2cdata);
        return PduType.IC_HLEN;
    }

    /**
     * H2CTermReq or C2HTermReq ({@code type}) with the first {@code min(headerLength, 128)} bytes of the
     * offending PDU header copied from {@code header} (may be null when {@code headerLength} is 0).
     */
    public int termReq(MemorySegment buf, long off, int type, int fes, long fei, MemorySegment header,
            long headerOff, int headerLength) {
        if (type != PduType.H2C_TERM_REQ && type != PduType.C2H_TERM_REQ) {
            throw new IllegalArgumentException("not a TermReq type: " + type);
        }
        int n = Math.min(Math.max(headerLength, 0), PduType.TERM_REQ_MAX_DATA);
        int hlen = PduType.TERM_REQ_HLEN;
        for (int i = 8; i < hlen; i += 4) {
            Wire.u32(buf, off + i, 0);
        }
        termReq.wrap(buf, off).putCommonHeader(type, 0, hlen, 0, hlen + n);
        termReq.fes(fes).fei(fei);
        if (n > 0) {
            MemorySegment.copy(header, headerOff, buf, off + hlen, n);
        }
        return hlen + n;
    }

    /**
     * CapsuleCmd. The 64-byte SQE is copied from {@code sqe} at {@code sqeOff}; pass {@code null} when it was
     * already written in place at {@code off + 8}. {@code dataLength} bytes of in-capsule data (0: none).
     */
    public int capsuleCmd(MemorySegment buf, long off, MemorySegment sqe, long sqeOff, MemorySegment data,
            long dataOff, int dataLength) {
        if (sqe != null) {
            MemorySegment.copy(sqe, sqeOff, buf, off + CapsuleCmdPdu.SQE_OFFSET, CapsuleCmdPdu.SQE_LENGTH);
        }
        return finish(buf, off, PduType.CAPSULE_CMD, PduType.CAPSULE_CMD_HLEN, 0, data, dataOff, dataLength);
    }

    /** CapsuleResp. The 16-byte CQE is copied from {@code cqe}; {@code null}: already in place at off + 8. */
    public int capsuleResp(MemorySegment buf, long off, MemorySegment cqe, long cqeOff) {
        if (cqe != null) {
            MemorySegment.copy(cqe, cqeOff, buf, off + CapsuleRespPdu.CQE_OFFSET, CapsuleRespPdu.CQE_LENGTH);
        }
        return finish(buf, off, PduType.CAPSULE_RESP, PduType.CAPSULE_RESP_HLEN, 0, null, 0, 0);
    }

    /** H2CData carrying {@code datal} (> 0) bytes at data offset {@code datao} of command {@code cccid}. */
    public int h2cData(MemorySegment buf, long off, int cccid, int ttag, long datao, MemorySegment data,
            long dataOff, int datal, boolean last) {
        dataFields(h2cData, buf, off, cccid, ttag, datao, datal);
        return finish(buf, off, PduType.H2C_DATA, PduType.DATA_HLEN, last ? TcpPdu.FLAG_LAST_PDU : 0, data,
                dataOff, datal);
    }

    /** C2HData; {@code success} requires {@code last}. */
    public int c2hData(MemorySegment buf, long off, int cccid, int ttag, long datao, MemorySegment data,
            long dataOff, int datal, boolean last, boolean success) {
        if (success && !last) {
            throw new IllegalArgumentException("SUCCESS requires LAST_PDU");
        }
        dataFields(c2hData, buf, off, cccid, ttag, datao, datal);
        int flags = (last ? TcpPdu.FLAG_LAST_PDU : 0) | (success ? TcpPdu.FLAG_SUCCESS : 0);
        return finish(buf, off, PduType.C2H_DATA, PduType.DATA_HLEN, flags, data, dataOff, datal);
    }

    public int r2t(MemorySegment buf, long off, int cccid, int ttag, long r2to, long r2tl) {
        r2t.wrap(buf, off);
        Wire.u32(buf, off + 20, 0);
        r2t.cccid(cccid).ttag(ttag).r2to(r2to).r2tl(r2tl);
        return finish(buf, off, PduType.R2T, PduType.R2T_HLEN, 0, null, 0, 0);
    }

    /**
     * Computes the data digest of the PDU at {@code off} over its data as it now lies in {@code buf} and
     * stores it; for PDUs encoded with {@code data == null} once the caller has written the data.
     */
    public void sealDataDigest(MemorySegment buf, long off) {
        common.wrap(buf, off);
        if (!common.dataDigest()) {
            return;
        }
        long plen = common.plen();
        int pdo = common.pdo();
        buf.set(Wire.U32, off + plen - 4, crc.compute(buf, off + pdo, plen - pdo - 4));
    }

    /** The data digest of a region, for callers that send data from their own buffers. */
    public int dataDigestOf(MemorySegment data, long dataOff, long length) {
        return crc.compute(data, dataOff, length);
    }

    private static void dataFields(DataPdu pdu, MemorySegment buf, long off, int cccid, int ttag, long datao,
            int datal) {
        if (datal <= 0) {
            throw new IllegalArgumentException("data PDUs carry at least one byte: " + datal);
        }
        pdu.wrap(buf, off);
        Wire.u32(buf, off + 20, 0);
        pdu.cccid(cccid).ttag(ttag).datao(datao).datal(datal);
    }

    private int finish(MemorySegment buf, long off, int type, int hlen, int flags, MemorySegment data,
            long dataOff, int dataLength) {
        int hd = hdgst ? 4 : 0;
        boolean withData = dataLength > 0;
        int pdo = withData ? dataOffset(hlen) : 0;
        if (pdo > 255) {
            throw new IllegalStateException("PDO does not fit in a byte: " + pdo);
        }
        long plen = pduLength(hlen, dataLength);
        int f = flags | (hdgst ? TcpPdu.FLAG_HDGSTF : 0) | (withData && ddgst ? TcpPdu.FLAG_DDGSTF : 0);
        common.wrap(buf, off).putCommonHeader(type, f, hlen, pdo, plen);
        if (hdgst) {
            buf.set(Wire.U32, off + hlen, crc.compute(buf, off, hlen));
        }
        if (withData) {
            for (long p = off + hlen + hd; p < off + pdo; p++) {
                buf.set(ValueLayout.JAVA_BYTE, p, (byte) 0);
            }
            if (data != null) {
                MemorySegment.copy(data, dataOff, buf, off + pdo, dataLength);
                if (ddgst) {
                    buf.set(Wire.U32, off + pdo + dataLength, crc.compute(buf, off + pdo, dataLength));
                }
            }
        }
        return (int) plen;
    }

    private static int dgst(boolean h, boolean d) {
        return (h ? IcReqPdu.DGST_HDGST_ENABLE : 0) | (d ? IcReqPdu.DGST_DDGST_ENABLE : 0);
    }
}
