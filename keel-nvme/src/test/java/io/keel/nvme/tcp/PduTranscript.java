package io.keel.nvme.tcp;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Fuzz support: feeds a {@link PduReader} one input cut into pieces and writes down what it delivered, one line
 * per PDU (type, header, data, outcome) or error (FES, FEI, offset), so that two feeds of the same bytes can be
 * compared. Checks the reader's contract on every event as it goes and throws {@link AssertionError} when one
 * is broken. Negotiates what each IC PDU asks for (digests, and its PDA as the receive alignment), as an
 * endpoint would.
 */
final class PduTranscript {
    /** Every FES the reader may report. */
    private static final List<Integer> READER_FES = List.of(Fes.INVALID_HEADER_FIELD, Fes.PDU_SEQUENCE_ERROR,
            Fes.HEADER_DIGEST_ERROR, Fes.DATA_TRANSFER_LIMIT_EXCEEDED);

    private final PduReader reader;
    private final boolean intoBuffer;
    private final List<String> lines = new ArrayList<>();
    private final Arena arena = Arena.ofAuto();
    private boolean inPdu;
    private String header;
    private ByteArrayOutputStream data;
    private MemorySegment into;
    private boolean failed;

    /**
     * @param intoBuffer take each PDU's data with {@link PduReader#readDataInto} instead of as DATA chunks
     */
    PduTranscript(PduReader reader, boolean intoBuffer) {
        this.reader = reader;
        this.intoBuffer = intoBuffer;
    }

    /** Feeds {@code wire} cut before each of {@code cuts} (ascending), each piece from its own segment. */
    List<String> feed(byte[] wire, int... cuts) {
        int from = 0;
        for (int i = 0; i <= cuts.length && !failed; i++) {
            int to = i < cuts.length ? cuts[i] : wire.length;
            MemorySegment piece = arena.allocate(Math.max(1, to - from) + 3L);
            MemorySegment.copy(wire, from, piece, ValueLayout.JAVA_BYTE, 3, to - from);
            piece(piece, 3, to - from);
            from = to;
        }
        return lines;
    }

    private void piece(MemorySegment src, long off, long len) {
        long pos = 0;
        // every event consumes a byte or moves the PDU on (HEADER, then at most END); a loop beyond that hangs
        for (long events = 0; ; events++) {
            check(events <= 3 * len + 3, "no progress");
            PduReader.Event ev = reader.decode(src, off + pos, len - pos);
            long before = pos;
            pos += reader.consumed();
            check(reader.consumed() >= 0 && pos <= len, "consumed more than given");
            switch (ev) {
                case NEED_MORE -> {
                    check(pos == len, "NEED_MORE with bytes left");
                    return;
                }
                case HEADER -> header();
                case DATA -> data(src, off + before, off + pos);
                case END, DATA_DIGEST_ERROR -> end(ev);
                case ERROR -> {
                    error();
                    return;
                }
            }
        }
    }

    private void header() {
        check(!inPdu, "HEADER inside a PDU");
        inPdu = true;
        int hlen = reader.header().hlen();
        int hd = reader.headerDigestEnabled() && PduType.digestible(reader.type()) ? 4 : 0;
        check(hlen == PduType.hlen(reader.type()) && hlen + hd == reader.headerBytes(), "header length");
        check(reader.hasData() == reader.dataLength() > 0, "hasData");
        header = HexFormat.of().formatHex(reader.headerSegment().asSlice(0, hlen + hd).toArray(ValueLayout.JAVA_BYTE));
        data = new ByteArrayOutputStream();
        into = null;
        if (intoBuffer && reader.hasData()) {
            into = arena.allocate(reader.dataLength() + 16);
            into.fill((byte) 0x5A);
            reader.readDataInto(into, 8);
        }
    }

    private void data(MemorySegment src, long from, long to) {
        check(inPdu && into == null, "DATA outside a PDU or while copying into a buffer");
        int n = reader.chunkLength();
        check(n > 0 && reader.chunkOffset() >= from && reader.chunkOffset() + n == to, "chunk not in the input taken");
        check(reader.chunkDataOffset() == data.size() && data.size() + n <= reader.dataLength(), "chunk out of place");
        data.writeBytes(src.asSlice(reader.chunkOffset(), n).toArray(ValueLayout.JAVA_BYTE));
    }

    private void end(PduReader.Event ev) {
        check(inPdu, "END without HEADER");
        check(ev == PduReader.Event.END || reader.dataDigestEnabled() && reader.hasData(), "digest error without one");
        inPdu = false;
        byte[] d = data.toByteArray();
        if (into != null) {
            d = into.asSlice(8, reader.dataLength()).toArray(ValueLayout.JAVA_BYTE);
            check(into.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) == 0x5A5A5A5A5A5A5A5AL
                    && into.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 + reader.dataLength()) == 0x5A5A5A5A5A5A5A5AL,
                    "readDataInto wrote outside the data");
        }
        check(d.length == reader.dataLength(), "data length");
        lines.add(PduType.name(reader.type()) + " " + header + " " + HexFormat.of().formatHex(d) + " " + ev);
        int type = reader.type();
        if (ev == PduReader.Event.END && (type == PduType.IC_REQ || type == PduType.IC_RESP)) {
            boolean req = type == PduType.IC_REQ;
            int dgst = req ? reader.icReq().dgst() : reader.icResp().dgst();
            int pda = req ? reader.icReq().hpda() : reader.icResp().cpda();
            reader.negotiated((dgst & IcReqPdu.DGST_HDGST_ENABLE) != 0, (dgst & IcReqPdu.DGST_DDGST_ENABLE) != 0, pda);
        }
    }

    private void error() {
        failed = true;
        check(READER_FES.contains(reader.fes()), "FES " + reader.fes());
        check(!reader.errorReason().isEmpty(), "no reason");
        check(reader.headerBytes() <= PduType.MAX_HEADER_WITH_DIGEST, "header buffer overrun");
        lines.add("ERROR fes=" + reader.fes() + " fei=" + reader.fei() + " at=" + reader.pduStreamOffset() + " "
                + reader.errorReason());
        // the error sticks
        check(reader.decode(MemorySegment.ofArray(new byte[4]), 0, 4) == PduReader.Event.ERROR
                && reader.consumed() == 0, "decoding went on after ERROR");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("PduReader contract broken: " + what);
        }
    }
}
