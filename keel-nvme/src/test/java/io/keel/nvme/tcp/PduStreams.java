package io.keel.nvme.tcp;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test support: builds PDU byte streams with {@link PduEncoder} and decodes them with {@link PduReader}. */
final class PduStreams {
    /** One decoded PDU (or error), captured as plain bytes for comparison. */
    record Decoded(int type, byte[] header, byte[] data, String outcome) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Decoded d && d.type == type && Arrays.equals(d.header, header)
                    && Arrays.equals(d.data, data) && d.outcome.equals(outcome);
        }

        @Override
        public int hashCode() {
            return type * 31 + Arrays.hashCode(header) + outcome.hashCode();
        }

        @Override
        public String toString() {
            return PduType.name(type) + "/" + outcome + "/h" + header.length + "/d" + (data == null ? -1 : data.length);
        }
    }

    /** How the collector takes the data. */
    enum DataMode {
        SLICES, INTO_BUFFER
    }

    /** Negotiated parameters the collector applies when it sees the end of an IC PDU. */
    record Negotiation(boolean hdgst, boolean ddgst, int rxPda) {
    }

    /** Feeds a reader and records what it delivers; applies the negotiation after the IC PDU. */
    static final class Collector {
        final PduReader reader;
        final Negotiation negotiation;
        final DataMode mode;
        final List<Decoded> out = new ArrayList<>();
        private byte[] header;
        private ByteArrayOutputStream data;
        private MemorySegment into;
        boolean failed;

        Collector(PduReader reader, Negotiation negotiation, DataMode mode) {
            this.reader = reader;
            this.negotiation = negotiation;
            this.mode = mode;
        }

        /** Feeds one piece; returns false once the reader reported a fatal error. */
        boolean feed(MemorySegment src, long off, long len) {
            long pos = 0;
            int guard = 0;
            while (true) {
                if (++guard > 1_000_000) {
                    throw new AssertionError("reader makes no progress");
                }
                PduReader.Event ev = reader.decode(src, off + pos, len - pos);
                pos += reader.consumed();
                if (pos > len) {
                    throw new AssertionError("consumed more than given");
                }
                switch (ev) {
                    case NEED_MORE -> {
                        if (pos != len) {
                            throw new AssertionError("NEED_MORE with bytes left");
                        }
                        return true;
                    }
                    case HEADER -> {
                        int hlen = reader.header().hlen();
                        int hd = reader.headerDigestEnabled() && PduType.digestible(reader.type()) ? 4 : 0;
                        header = reader.headerSegment().asSlice(0, hlen + hd).toArray(ValueLayout.JAVA_BYTE);
                        data = null;
                        into = null;
                        if (reader.hasData()) {
                            data = new ByteArrayOutputStream();
                            if (mode == DataMode.INTO_BUFFER) {
                                into = Arena.ofAuto().allocate(reader.dataLength() + 8);
                                reader.readDataInto(into, 8);
                            }
                        }
                    }
                    case DATA -> {
                        if (reader.chunkDataOffset() != data.size()) {
                            throw new AssertionError("chunk out of order");
                        }
                        data.writeBytes(src.asSlice(reader.chunkOffset(), reader.chunkLength())
                                .toArray(ValueLayout.JAVA_BYTE));
                    }
                    case END, DATA_DIGEST_ERROR -> {
                        byte[] d = null;
                        if (into != null) {
                            d = into.asSlice(8, reader.dataLength()).toArray(ValueLayout.JAVA_BYTE);
                        } else if (data != null) {
                            d = data.toByteArray();
                        }
                        out.add(new Decoded(reader.type(), header, d, ev.name()));
                        if (ev == PduReader.Event.END && (reader.type() == PduType.IC_REQ
                                || reader.type() == PduType.IC_RESP) && negotiation != null) {
                            reader.negotiated(negotiation.hdgst, negotiation.ddgst, negotiation.rxPda);
                        }
                    }
                    case ERROR -> {
                        out.add(new Decoded(reader.type(), new byte[0], null,
                                "ERROR fes=" + reader.fes() + " fei=" + reader.fei()));
                        failed = true;
                        return false;
                    }
                }
            }
        }
    }

    private PduStreams() {
    }

    static MemorySegment nativeCopy(byte[] bytes, int from, int to) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, to - from));
        MemorySegment.copy(bytes, from, s, ValueLayout.JAVA_BYTE, 0, to - from);
        return s;
    }

    /** Decodes {@code stream} cut at {@code cuts} (ascending positions), each piece in its own segment. */
    static Collector decode(PduReader reader, Negotiation n, DataMode mode, byte[] stream, int... cuts) {
        Collector c = new Collector(reader, n, mode);
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : stream.length;
            if (!c.feed(nativeCopy(stream, from, to), 0, to - from)) {
                break;
            }
            from = to;
        }
        return c;
    }

    /** Feeds one byte at a time through a single reused segment. */
    static Collector decodeByteByByte(PduReader reader, Negotiation n, DataMode mode, byte[] stream) {
        Collector c = new Collector(reader, n, mode);
        MemorySegment one = Arena.ofAuto().allocate(1);
        for (byte b : stream) {
            one.set(ValueLayout.JAVA_BYTE, 0, b);
            if (!c.feed(one, 0, 1)) {
                break;
            }
        }
        return c;
    }

    static byte[] bytes(MemorySegment s, long off, long len) {
        return s.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }
}
