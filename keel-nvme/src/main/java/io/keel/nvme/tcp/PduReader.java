package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Streaming NVMe/TCP PDU decoder for one connection, fed with bytes as they arrive in any split.
 *
 * <p>Each {@link #decode} call consumes bytes ({@link #consumed()}) and returns at the next {@link Event}:
 * <ul>
 * <li>{@link Event#NEED_MORE}: all given bytes were consumed (or buffered); call again with more.</li>
 * <li>{@link Event#HEADER}: a complete, validated header (header digest verified) is in a fixed internal
 * buffer: {@link #header()} and the typed flyweights ({@link #capsuleCmd()}, {@link #h2cData()}, ...),
 * {@link #sqe()} / {@link #cqe()}. If {@link #hasData()}, the caller may now call {@link #readDataInto}
 * to have the data copied into its buffer; otherwise the data is handed over as {@link Event#DATA} chunks
 * of the input, without copying.</li>
 * <li>{@link Event#DATA}: {@link #chunkLength()} bytes of PDU data at {@link #chunkOffset()} of the segment
 * just passed to decode, at {@link #chunkDataOffset()} within the PDU's data.</li>
 * <li>{@link Event#END}: the PDU is complete (its data digest verified); follows every HEADER.</li>
 * <li>{@link Event#DATA_DIGEST_ERROR}: in place of END: the data did not match its digest. The header
 * (type, CCCID, TTAG...) is still readable so the caller can fail the command or terminate; framing is
 * intact and decoding may go on with the next PDU.</li>
 * <li>{@link Event#ERROR}: fatal: {@link #fes()} (a {@link Fes}), {@link #fei()} (for an invalid header
 * field, its byte offset in the PDU header) and {@link #errorReason()}; the header bytes received so far
 * are at {@link #headerSegment()} ({@link #headerBytes()} of them) for the TermReq. The reader stays in
 * this state until {@link #reset()}.</li>
 * </ul>
 *
 * <p>Bad input never throws and never makes the reader buffer more than one header plus digest
 * ({@value PduType#MAX_HEADER_WITH_DIGEST} bytes); data is streamed through. Nothing is allocated per PDU
 * (the data digest keeps a view per source segment, see {@link Crc32c}). Single-threaded.
 */
public final class PduReader {
    /** Which end of the connection this reader decodes for; it accepts only the PDU types sent to it. */
    public enum Role {
        /** Receives ICReq, H2CTermReq, CapsuleCmd, H2CData. */
        CONTROLLER,
        /** Receives ICResp, C2HTermReq, CapsuleResp, C2HData, R2T. */
        HOST
    }

    public enum Event {
        NEED_MORE, HEADER, DATA, END, DATA_DIGEST_ERROR, ERROR
    }

    private enum State {
        HEADER, PAD, DATA, DATA_DIGEST, END, ERROR
    }

    private final Role role;
    private final long maxPduLength;
    private long maxH2CData;
    private boolean hdgst;
    private boolean ddgst;
    private int rxAlignment = 4;
    private boolean icDone;

    private final byte[] hdrBytes = new byte[PduType.MAX_HEADER_WITH_DIGEST];
    private final MemorySegment hdr = MemorySegment.ofArray(hdrBytes);
    private final MemorySegment sqe = hdr.asSlice(CapsuleCmdPdu.SQE_OFFSET, CapsuleCmdPdu.SQE_LENGTH);
    private final MemorySegment cqe = hdr.asSlice(CapsuleRespPdu.CQE_OFFSET, CapsuleRespPdu.CQE_LENGTH);
    private final byte[] digestBytes = new byte[4];
    private final MemorySegment digest = MemorySegment.ofArray(digestBytes);
    private final Crc32c crc = new Crc32c();

    private final TcpPdu common = new TcpPdu().wrap(hdr, 0);
    private final IcReqPdu icReq = new IcReqPdu().wrap(hdr, 0);
    private final IcRespPdu icResp = new IcRespPdu().wrap(hdr, 0);
    private final TermReqPdu termReq = new TermReqPdu().wrap(hdr, 0);
    private final CapsuleCmdPdu capsuleCmd = new CapsuleCmdPdu().wrap(hdr, 0);
    private final CapsuleRespPdu capsuleResp = new CapsuleRespPdu().wrap(hdr, 0);
    private final H2CDataPdu h2cData = new H2CDataPdu().wrap(hdr, 0);
    private final C2HDataPdu c2hData = new C2HDataPdu().wrap(hdr, 0);
    private final R2TPdu r2t = new R2TPdu().wrap(hdr, 0);

    private State state = State.HEADER;
    private int hdrHave;
    private int hdrNeed = TcpPdu.COMMON_HEADER_LENGTH;
    private int type = -1;
    private long plen;
    private long padLeft;
    private long dataLength;
    private long dataDone;
    private boolean dataDigestPresent;
    private int digestHave;
    private MemorySegment dst;
    private long dstOffset;

    private int consumed;
    private long chunkOffset;
    private int chunkLength;
    private long chunkDataOffset;

    private long streamPosition;
    private long pduStart;
    private int fes;
    private long fei;
    private String reason = "";

    /**
     * @param maxPduLength the largest plen accepted for a PDU carrying data (CapsuleCmd with in-capsule
     *        data, H2CData, C2HData); larger ones fail with {@link Fes#DATA_TRANSFER_LIMIT_EXCEEDED}
     */
    public PduReader(Role role, long maxPduLength) {
        this.role = role;
        this.maxPduLength = maxPduLength;
        this.maxH2CData = maxPduLength;
    }

    /**
     * Records the outcome of the ICReq/ICResp exchange and marks it done: header/data digests on this
     * connection, and {@code rxPda}, the 0's based dword alignment required of the data in PDUs we receive
     * (our CPDA as a controller, our HPDA as a host). Call between PDUs (after the IC PDU's END).
     */
    public PduReader negotiated(boolean headerDigest, boolean dataDigest, int rxPda) {
        if (rxPda < 0 || rxPda > 31) {
            throw new IllegalArgumentException("PDA out of range 0..31: " + rxPda);
        }
        this.hdgst = headerDigest;
        this.ddgst = dataDigest;
        this.rxAlignment = (rxPda + 1) * 4;
        this.icDone = true;
        return this;
    }

    /** MAXH2CDATA this controller announced: larger H2CData PDUs fail with DATA_TRANSFER_LIMIT_EXCEEDED. */
    public PduReader maxH2CData(long max) {
        this.maxH2CData = max;
        return this;
    }

    /** Forgets everything, as for a new connection (IC exchange expected, no digests). */
    public void reset() {
        hdgst = false;
        ddgst = false;
        rxAlignment = 4;
        icDone = false;
        maxH2CData = maxPduLength;
        streamPosition = 0;
        fes = Fes.NONE;
        fei = 0;
        reason = "";
        startHeader();
    }

    /**
     * Decodes from {@code length} bytes of {@code src} at {@code offset} up to the next event; see the class
     * comment. {@link #consumed()} tells how many bytes were taken.
     */
    public Event decode(MemorySegment src, long offset, long length) {
        consumed = 0;
        chunkLength = 0;
        while (true) {
            long avail = length - consumed;
            long at = offset + consumed;
            switch (state) {
                case HEADER -> {
                    if (avail == 0) {
                        return done(Event.NEED_MORE);
                    }
                    int n = (int) Math.min(avail, hdrNeed - hdrHave);
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, at, hdrBytes, hdrHave, n);
                    if (hdrHave == 0) {
                        pduStart = streamPosition + consumed;
                    }
                    hdrHave += n;
                    consumed += n;
                    if (hdrHave < hdrNeed) {
                        continue;
                    }
                    if (hdrNeed == TcpPdu.COMMON_HEADER_LENGTH && !commonHeaderArrived()) {
                        return error();
                    }
                    if (hdrHave < hdrNeed) {
                        continue;
                    }
                    if (!headerArrived()) {
                        return error();
                    }
                    return done(Event.HEADER);
                }
                case PAD -> {
                    if (avail == 0) {
                        return done(Event.NEED_MORE);
                    }
                    int n = (int) Math.min(avail, padLeft);
                    padLeft -= n;
                    consumed += n;
                    if (padLeft == 0) {
                        state = State.DATA;
                    }
                }
                case DATA -> {
                    long left = dataLength - dataDone;
                    if (left == 0) {
                        state = dataDigestPresent ? State.DATA_DIGEST : State.END;
                        continue;
                    }
                    if (avail == 0) {
                        return done(Event.NEED_MORE);
                    }
                    int n = (int) Math.min(Math.min(avail, left), Integer.MAX_VALUE);
                    if (dataDigestPresent) {
                        crc.update(src, at, n);
                    }
                    consumed += n;
                    if (dst != null) {
                        MemorySegment.copy(src, at, dst, dstOffset + dataDone, n);
                        dataDone += n;
                        continue;
                    }
                    chunkOffset = at;
                    chunkLength = n;
                    chunkDataOffset = dataDone;
                    dataDone += n;
                    return done(Event.DATA);
                }
                case DATA_DIGEST -> {
                    if (avail == 0) {
                        return done(Event.NEED_MORE);
                    }
                    int n = (int) Math.min(avail, 4 - digestHave);
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, at, digestBytes, digestHave, n);
                    digestHave += n;
                    consumed += n;
                    if (digestHave < 4) {
                        return done(Event.NEED_MORE);
                    }
                    boolean ok = digest.get(Wire.U32, 0) == crc.value();
                    startHeader();
                    return done(ok ? Event.END : Event.DATA_DIGEST_ERROR);
                }
                case END -> {
                    startHeader();
                    return done(Event.END);
                }
                case ERROR -> {
                    return Event.ERROR;
                }
                default -> throw new IllegalStateException();
            }
        }
    }

    private Event done(Event e) {
        streamPosition += consumed;
        return e;
    }

    private Event error() {
        streamPosition += consumed;
        state = State.ERROR;
        return Event.ERROR;
    }

    private void startHeader() {
        state = State.HEADER;
        hdrHave = 0;
        hdrNeed = TcpPdu.COMMON_HEADER_LENGTH;
    }

    /** First 8 bytes in: decide how many header bytes to collect, from the type alone. */
    private boolean commonHeaderArrived() {
        type = common.type();
        int hlen = PduType.hlen(type);
        boolean ours = role == Role.CONTROLLER ? PduType.hostToController(type) : PduType.controllerToHost(type);
        if (hlen < 0 || !ours) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.TYPE_OFFSET, "unknown PDU type or wrong direction");
        }
        boolean ic = type == PduType.IC_REQ || type == PduType.IC_RESP;
        if (ic == icDone) {
            return fail(Fes.PDU_SEQUENCE_ERROR, TcpPdu.TYPE_OFFSET,
                    ic ? "second connection initialization PDU" : "PDU before connection initialization");
        }
        hdrNeed = hlen + (hdgst && PduType.digestible(type) ? 4 : 0);
        return true;
    }

    /** Whole header (and header digest) in: verify and validate, then set up the data section. */
    private boolean headerArrived() {
        dst = null;
        dataLength = 0;
        dataDone = 0;
        padLeft = 0;
        digestHave = 0;
        dataDigestPresent = false;
        int hlen = PduType.hlen(type);
        boolean digestible = PduType.digestible(type);
        int hd = hdgst && digestible ? 4 : 0;
        if (hd != 0) {
            crc.reset();
            crc.update(hdrBytes, 0, hlen);
            if (crc.value() != hdr.get(Wire.U32, hlen)) {
                return fail(Fes.HEADER_DIGEST_ERROR, hlen, "header digest mismatch");
            }
        }
        if (common.hlen() != hlen) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.HLEN_OFFSET, "HLEN does not match the PDU type");
        }
        int flags = common.flags();
        plen = common.plen();
        int pdo = common.pdo();
        if (digestible && ((flags & TcpPdu.FLAG_HDGSTF) != 0) != hdgst) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "HDGSTF differs from the negotiated digest");
        }
        if (!digestible && (flags & (TcpPdu.FLAG_HDGSTF | TcpPdu.FLAG_DDGSTF)) != 0 && type != PduType.H2C_TERM_REQ
                && type != PduType.C2H_TERM_REQ) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "digest flag on a PDU without digests");
        }
        long headerEnd = hlen + hd;
        switch (type) {
            case PduType.IC_REQ, PduType.IC_RESP -> {
                return icFields();
            }
            case PduType.H2C_TERM_REQ, PduType.C2H_TERM_REQ -> {
                if (plen < hlen || plen > hlen + PduType.TERM_REQ_MAX_DATA) {
                    return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PLEN_OFFSET, "TermReq PLEN out of range");
                }
                dataLength = plen - hlen;
                state = dataLength > 0 ? State.DATA : State.END;
                return true;
            }
            case PduType.CAPSULE_RESP, PduType.R2T -> {
                if (plen != headerEnd) {
                    return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PLEN_OFFSET, "PLEN does not match HLEN");
                }
                if ((flags & TcpPdu.FLAG_DDGSTF) != 0) {
                    return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "DDGSTF on a PDU without data");
                }
                if (type == PduType.R2T && r2t.r2tl() == 0) {
                    return fail(Fes.INVALID_HEADER_FIELD, R2TPdu.R2TL_OFFSET, "R2TL is zero");
                }
                state = State.END;
                return true;
            }
            default -> {
                return dataSection(flags, pdo, headerEnd);
            }
        }
    }

    private boolean dataSection(int flags, int pdo, long headerEnd) {
        boolean isData = type == PduType.H2C_DATA || type == PduType.C2H_DATA;
        if (plen < headerEnd) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PLEN_OFFSET, "PLEN shorter than the header");
        }
        if (plen == headerEnd) {
            if (isData) {
                return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PLEN_OFFSET, "data PDU without data");
            }
            if ((flags & TcpPdu.FLAG_DDGSTF) != 0) {
                return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "DDGSTF on a PDU without data");
            }
            state = State.END;
            return true;
        }
        if (plen > maxPduLength) {
            return fail(Fes.DATA_TRANSFER_LIMIT_EXCEEDED, TcpPdu.PLEN_OFFSET, "PLEN above the configured maximum");
        }
        boolean dd = (flags & TcpPdu.FLAG_DDGSTF) != 0;
        if (dd != ddgst) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "DDGSTF differs from the negotiated digest");
        }
        int ddLen = dd ? 4 : 0;
        if (pdo < headerEnd || pdo % rxAlignment != 0 || pdo + ddLen >= plen) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PDO_OFFSET, "PDO not aligned or out of the PDU");
        }
        long length = plen - pdo - ddLen;
        if (isData) {
            DataPdu data = type == PduType.H2C_DATA ? h2cData : c2hData;
            if (data.datal() != length) {
                return fail(Fes.INVALID_HEADER_FIELD, DataPdu.DATAL_OFFSET, "DATAL does not match PLEN and PDO");
            }
            if (type == PduType.H2C_DATA && length > maxH2CData) {
                return fail(Fes.DATA_TRANSFER_LIMIT_EXCEEDED, DataPdu.DATAL_OFFSET, "DATAL above MAXH2CDATA");
            }
            if ((flags & TcpPdu.FLAG_SUCCESS) != 0 && (flags & TcpPdu.FLAG_LAST_PDU) == 0
                    && type == PduType.C2H_DATA) {
                return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.FLAGS_OFFSET, "SUCCESS without LAST_PDU");
            }
        }
        padLeft = pdo - headerEnd;
        dataLength = length;
        dataDigestPresent = dd;
        if (dd) {
            crc.reset();
        }
        state = padLeft > 0 ? State.PAD : State.DATA;
        return true;
    }

    private boolean icFields() {
        if (plen != PduType.IC_HLEN) {
            return fail(Fes.INVALID_HEADER_FIELD, TcpPdu.PLEN_OFFSET, "IC PDU PLEN is not 128");
        }
        if (icReq.pfv() != 0) {
            return fail(Fes.INVALID_HEADER_FIELD, IcReqPdu.PFV_OFFSET, "unsupported PDU format version");
        }
        if (icReq.hpda() > 31) {
            return fail(Fes.INVALID_HEADER_FIELD, IcReqPdu.HPDA_OFFSET, "PDA above 31");
        }
        if (type == PduType.IC_RESP) {
            long max = icResp.maxh2cdata();
            if (max < IcRespPdu.MIN_MAXH2CDATA || max % 4 != 0) {
                return fail(Fes.INVALID_HEADER_FIELD, IcRespPdu.MAXH2CDATA_OFFSET, "MAXH2CDATA below 4096 or unaligned");
            }
        }
        icDone = true;
        state = State.END;
        return true;
    }

    private boolean fail(int fes, long fei, String reason) {
        this.fes = fes;
        this.fei = fei;
        this.reason = reason;
        return false;
    }

    /**
     * After {@link Event#HEADER}: copy this PDU's data into {@code destination} from {@code offset} on
     * (room for {@link #dataLength()} bytes) instead of handing it over as DATA events.
     */
    public void readDataInto(MemorySegment destination, long offset) {
        if (state != State.PAD && state != State.DATA) {
            throw new IllegalStateException("no data section pending");
        }
        this.dst = destination;
        this.dstOffset = offset;
    }

    /**
     * In the data section of a PDU (its padding consumed): how many of its data bytes have not arrived yet; 0
     * elsewhere. A caller may read that many (or fewer) straight from the connection into its own buffer and
     * report them with {@link #dataReceived}, instead of passing them through {@link #decode}.
     */
    public long dataRemaining() {
        return state == State.DATA ? dataLength - dataDone : 0;
    }

    /** In the data section: the offset within the PDU's data of the next byte expected. */
    public long dataPosition() {
        return dataDone;
    }

    /**
     * The caller received the next {@code n} data bytes of this PDU itself and put them at {@code where} from
     * {@code at}: they count as decoded and go into the data digest. The PDU ends at the next {@link #decode} once all
     * its data is in (that call may pass no bytes).
     */
    public void dataReceived(MemorySegment where, long at, long n) {
        if (n < 0 || n > dataRemaining()) {
            throw new IllegalStateException(n + " data bytes received, " + dataRemaining() + " expected");
        }
        if (dataDigestPresent) {
            crc.update(where, at, n);
        }
        dataDone += n;
        streamPosition += n;
    }

    /** Bytes of input taken by the last {@link #decode} call. */
    public int consumed() {
        return consumed;
    }

    public long chunkOffset() {
        return chunkOffset;
    }

    public int chunkLength() {
        return chunkLength;
    }

    public long chunkDataOffset() {
        return chunkDataOffset;
    }

    /** Whether the current PDU (valid from HEADER until the next PDU's HEADER) has a data section (in-capsule data, H2C/C2H data, TermReq header copy). */
    public boolean hasData() {
        return dataLength > 0;
    }

    public long dataLength() {
        return dataLength;
    }

    /** PDU type of the current header (valid from HEADER until the next PDU starts; -1 before any). */
    public int type() {
        return type;
    }

    /** Stream byte offset at which the current (or offending) PDU starts. */
    public long pduStreamOffset() {
        return pduStart;
    }

    public boolean headerDigestEnabled() {
        return hdgst;
    }

    public boolean dataDigestEnabled() {
        return ddgst;
    }

    public boolean initialized() {
        return icDone;
    }

    public int fes() {
        return fes;
    }

    public long fei() {
        return fei;
    }

    /** A constant text for the last error (no allocation). */
    public String errorReason() {
        return reason;
    }

    /** The fixed buffer holding the current header (at offset 0) and its digest. */
    public MemorySegment headerSegment() {
        return hdr;
    }

    /** Header bytes received for the current PDU (after ERROR: what the TermReq may echo). */
    public int headerBytes() {
        return hdrHave;
    }

    public TcpPdu header() {
        return common;
    }

    public IcReqPdu icReq() {
        return icReq;
    }

    public IcRespPdu icResp() {
        return icResp;
    }

    public TermReqPdu termReq() {
        return termReq;
    }

    public CapsuleCmdPdu capsuleCmd() {
        return capsuleCmd;
    }

    public CapsuleRespPdu capsuleResp() {
        return capsuleResp;
    }

    public H2CDataPdu h2cData() {
        return h2cData;
    }

    public C2HDataPdu c2hData() {
        return c2hData;
    }

    public R2TPdu r2t() {
        return r2t;
    }

    /** The SQE of the current CapsuleCmd: a fixed slice of the header buffer (no allocation). */
    public MemorySegment sqe() {
        return sqe;
    }

    /** The CQE of the current CapsuleResp: a fixed slice of the header buffer (no allocation). */
    public MemorySegment cqe() {
        return cqe;
    }
}
