package io.keel.nvme.tcp;

import static io.keel.nvme.tcp.PduStreams.bytes;
import static io.keel.nvme.tcp.PduStreams.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.keel.nvme.tcp.PduStreams.Collector;
import io.keel.nvme.tcp.PduStreams.DataMode;
import io.keel.nvme.tcp.PduStreams.Negotiation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Corrupted, malformed and random input: distinct digest errors, FES/FEI for the rest, never a throw. */
class PduReaderErrorTest {
    private static final Negotiation BOTH = new Negotiation(true, true, 0);
    private static final Negotiation NONE = new Negotiation(false, false, 0);
    private final MemorySegment buf = Arena.ofAuto().allocate(1 << 16);

    private static PduReader reader(PduReader.Role role, Negotiation n) {
        return new PduReader(role, 8192).negotiated(n.hdgst(), n.ddgst(), n.rxPda());
    }

    private static PduEncoder encoder(Negotiation n) {
        return new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
    }

    private static MemorySegment seg(byte[] b) {
        return MemorySegment.ofArray(b);
    }

    /** Feeds {@code wire} in one piece and expects a fatal error with this FES and FEI. */
    private static PduReader expectError(PduReader reader, byte[] wire, int fes, long fei) {
        Collector c = PduStreams.decode(reader, null, DataMode.SLICES, wire);
        assertThat(c.failed).as("outcomes %s", c.out).isTrue();
        assertThat(reader.fes()).as(reader.errorReason()).isEqualTo(fes);
        assertThat(reader.fei()).as(reader.errorReason()).isEqualTo(fei);
        assertThat(reader.errorReason()).isNotEmpty();
        // The error sticks: nothing more is consumed.
        assertThat(reader.decode(MemorySegment.ofArray(new byte[8]), 0, 8)).isEqualTo(PduReader.Event.ERROR);
        assertThat(reader.consumed()).isZero();
        return reader;
    }

    private byte[] h2cData(Negotiation n, int datal) {
        int len = encoder(n).h2cData(buf, 0, 0x11, 0x22, 0, seg(pattern(datal, 1)), 0, datal, true);
        return bytes(buf, 0, len);
    }

    @Test
    void corruptedHeaderDigestIsAHeaderDigestError() {
        byte[] wire = h2cData(BOTH, 64);
        wire[24] ^= 0x01; // the digest itself
        expectError(reader(PduReader.Role.CONTROLLER, BOTH), wire, Fes.HEADER_DIGEST_ERROR, 24);

        wire = h2cData(BOTH, 64);
        wire[8] ^= 0x40; // CCCID: only the digest can tell
        expectError(reader(PduReader.Role.CONTROLLER, BOTH), wire, Fes.HEADER_DIGEST_ERROR, 24);

        wire = h2cData(BOTH, 64);
        wire[2] = 25; // HLEN: with header digests on, also reported as a digest error
        expectError(reader(PduReader.Role.CONTROLLER, BOTH), wire, Fes.HEADER_DIGEST_ERROR, 24);
    }

    @Test
    void corruptedDataDigestIsReportedWithThePduIdentityAndDecodingGoesOn() {
        PduEncoder enc = encoder(BOTH);
        int a = enc.h2cData(buf, 0, 0x11, 0x22, 512, seg(pattern(100, 1)), 0, 100, false);
        int b = enc.capsuleCmd(buf, a, seg(pattern(64, 2)), 0, seg(pattern(10, 3)), 0, 10);
        byte[] wire = bytes(buf, 0, a + b);
        wire[28 + 50] ^= (byte) 0x80; // a data byte of the first PDU
        for (DataMode mode : DataMode.values()) {
            PduReader reader = reader(PduReader.Role.CONTROLLER, BOTH);
            Collector c = new Collector(reader, null, mode);
            MemorySegment src = seg(wire);
            long pos = 0;
            PduReader.Event ev;
            do {
                ev = reader.decode(src, pos, wire.length - pos);
                pos += reader.consumed();
                if (ev == PduReader.Event.HEADER && mode == DataMode.INTO_BUFFER) {
                    reader.readDataInto(Arena.ofAuto().allocate(128), 0);
                }
            } while (ev != PduReader.Event.DATA_DIGEST_ERROR && ev != PduReader.Event.ERROR);
            assertThat(ev).isEqualTo(PduReader.Event.DATA_DIGEST_ERROR);
            assertThat(reader.type()).isEqualTo(PduType.H2C_DATA);
            assertThat(reader.h2cData().cccid()).isEqualTo(0x11);
            assertThat(reader.h2cData().ttag()).isEqualTo(0x22);
            assertThat(reader.h2cData().datao()).isEqualTo(512);
            assertThat(reader.pduStreamOffset()).isZero();
            assertThat(pos).isEqualTo(a);
            // The next PDU decodes normally.
            assertThat(c.feed(src, pos, wire.length - pos)).isTrue();
            assertThat(c.out).singleElement().satisfies(d -> {
                assertThat(d.type()).isEqualTo(PduType.CAPSULE_CMD);
                assertThat(d.outcome()).isEqualTo("END");
                assertThat(d.data()).isEqualTo(pattern(10, 3));
            });
        }
    }

    @Test
    void corruptedDataDigestBytesInEverySplit() {
        byte[] wire = h2cData(BOTH, 20);
        wire[wire.length - 1] ^= 0x10;
        for (int cut = 0; cut <= wire.length; cut++) {
            Collector c = PduStreams.decode(reader(PduReader.Role.CONTROLLER, BOTH), null, DataMode.SLICES, wire, cut);
            assertThat(c.out).singleElement().extracting(PduStreams.Decoded::outcome).isEqualTo("DATA_DIGEST_ERROR");
        }
    }

    @Test
    void unknownTypeAndWrongDirection() {
        byte[] wire = h2cData(NONE, 8);
        wire[0] = 0x08; // no PDU type 8
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 0);
        wire[0] = (byte) 0xFF;
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 0);
        // H2CData sent to a host.
        expectError(reader(PduReader.Role.HOST, NONE), h2cData(NONE, 8), Fes.INVALID_HEADER_FIELD, 0);
    }

    @Test
    void wrongHlen() {
        byte[] wire = h2cData(NONE, 8);
        wire[2] = 72;
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 2);
        int len = new PduEncoder().icReq(buf, 0, 0, 0, false, false, 0);
        wire = bytes(buf, 0, len);
        wire[2] = 24;
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), wire, Fes.INVALID_HEADER_FIELD, 2);
    }

    @Test
    void hugePlenFailsAtTheHeaderWithoutBuffering() {
        byte[] wire = h2cData(NONE, 8);
        wire[4] = (byte) 0xF0;
        wire[5] = (byte) 0xFF;
        wire[6] = (byte) 0xFF;
        wire[7] = (byte) 0xFF; // plen = 0xFFFFFFF0
        wire[16] = (byte) 0xD8; // DATAL consistent with it: plen - pdo
        wire[17] = (byte) 0xFF;
        wire[18] = (byte) 0xFF;
        wire[19] = (byte) 0xFF;
        PduReader r = expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.DATA_TRANSFER_LIMIT_EXCEEDED, 4);
        assertThat(r.headerBytes()).isEqualTo(24);

        int len = encoder(NONE).capsuleResp(buf, 0, seg(pattern(16, 1)), 0);
        wire = bytes(buf, 0, len);
        wire[7] = 0x7F;
        expectError(reader(PduReader.Role.HOST, NONE), wire, Fes.INVALID_HEADER_FIELD, 4);
    }

    @Test
    void plenShorterThanHeaderAndInconsistentDatal() {
        byte[] wire = h2cData(NONE, 8);
        wire[4] = 10;
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 4);
        wire = h2cData(NONE, 8);
        wire[16] = 9;
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 16);
    }

    @Test
    void h2cDataAboveMaxH2CData() {
        byte[] wire = h2cData(NONE, 5000);
        PduReader reader = reader(PduReader.Role.CONTROLLER, NONE).maxH2CData(4096);
        expectError(reader, wire, Fes.DATA_TRANSFER_LIMIT_EXCEEDED, 16);
    }

    @Test
    void pdoOutOfPlaceOrMisaligned() {
        byte[] wire = h2cData(NONE, 8);
        wire[3] = 20; // inside the header
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 3);
        wire = h2cData(NONE, 8);
        wire[3] = (byte) 200; // beyond plen
        expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 3);
        // PDO 24 is fine for alignment 4 but not for a controller that asked CPDA 3 (16 bytes).
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192).negotiated(false, false, 3), h2cData(NONE, 8),
                Fes.INVALID_HEADER_FIELD, 3);
    }

    @Test
    void digestFlagsMustMatchTheNegotiation() {
        expectError(reader(PduReader.Role.CONTROLLER, BOTH), h2cData(new Negotiation(false, true, 0), 8),
                Fes.HEADER_DIGEST_ERROR, 24);
        expectError(reader(PduReader.Role.CONTROLLER, NONE), h2cData(new Negotiation(true, false, 0), 8),
                Fes.INVALID_HEADER_FIELD, 1);
        expectError(reader(PduReader.Role.CONTROLLER, NONE), h2cData(new Negotiation(false, true, 0), 8),
                Fes.INVALID_HEADER_FIELD, 1);
        expectError(reader(PduReader.Role.CONTROLLER, new Negotiation(false, true, 0)), h2cData(NONE, 8),
                Fes.INVALID_HEADER_FIELD, 1);
        int len = encoder(NONE).capsuleResp(buf, 0, seg(pattern(16, 1)), 0);
        byte[] wire = bytes(buf, 0, len);
        wire[1] = TcpPdu.FLAG_DDGSTF;
        expectError(reader(PduReader.Role.HOST, NONE), wire, Fes.INVALID_HEADER_FIELD, 1);
    }

    @Test
    void successWithoutLastPdu() {
        int len = encoder(NONE).c2hData(buf, 0, 1, 0, 0, seg(pattern(8, 1)), 0, 8, true, true);
        byte[] wire = bytes(buf, 0, len);
        wire[1] = TcpPdu.FLAG_SUCCESS;
        expectError(reader(PduReader.Role.HOST, NONE), wire, Fes.INVALID_HEADER_FIELD, 1);
    }

    @Test
    void pduSequence() {
        // Anything before the IC exchange, and a second ICReq after it.
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), h2cData(NONE, 8), Fes.PDU_SEQUENCE_ERROR, 0);
        int len = new PduEncoder().icReq(buf, 0, 0, 0, false, false, 0);
        expectError(reader(PduReader.Role.CONTROLLER, NONE), bytes(buf, 0, len), Fes.PDU_SEQUENCE_ERROR, 0);
    }

    @Test
    void icFields() {
        int len = new PduEncoder().icReq(buf, 0, 1, 0, false, false, 0);
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), bytes(buf, 0, len), Fes.INVALID_HEADER_FIELD, 8);
        len = new PduEncoder().icReq(buf, 0, 0, 32, false, false, 0);
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), bytes(buf, 0, len), Fes.INVALID_HEADER_FIELD, 10);
        len = new PduEncoder().icResp(buf, 0, 0, 0, false, false, 1024);
        expectError(new PduReader(PduReader.Role.HOST, 8192), bytes(buf, 0, len), Fes.INVALID_HEADER_FIELD, 12);
        len = new PduEncoder().icReq(buf, 0, 0, 0, false, false, 0);
        byte[] wire = bytes(buf, 0, len);
        wire[1] = TcpPdu.FLAG_HDGSTF;
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), wire, Fes.INVALID_HEADER_FIELD, 1);
        wire[1] = 0;
        wire[4] = (byte) 129;
        expectError(new PduReader(PduReader.Role.CONTROLLER, 8192), wire, Fes.INVALID_HEADER_FIELD, 4);
    }

    @Test
    void termReqTooLong() {
        int len = encoder(NONE).termReq(buf, 0, PduType.C2H_TERM_REQ, 1, 0, seg(pattern(128, 1)), 0, 128);
        byte[] wire = bytes(buf, 0, len);
        wire[4] = (byte) 153;
        expectError(reader(PduReader.Role.HOST, NONE), wire, Fes.INVALID_HEADER_FIELD, 4);
    }

    @Test
    void truncatedPduWaitsForMoreAndHoldsOnlyTheHeader() {
        byte[] wire = h2cData(BOTH, 64);
        for (int cut = 0; cut < wire.length; cut++) {
            PduReader reader = reader(PduReader.Role.CONTROLLER, BOTH);
            Collector c = PduStreams.decode(reader, null, DataMode.SLICES, java.util.Arrays.copyOf(wire, cut));
            assertThat(c.out).isEmpty();
            assertThat(reader.headerBytes()).isLessThanOrEqualTo(PduType.MAX_HEADER_WITH_DIGEST);
        }
    }

    @Test
    void errorHeaderEchoesIntoATermReq() {
        byte[] wire = h2cData(NONE, 8);
        wire[2] = 99;
        PduReader reader = expectError(reader(PduReader.Role.CONTROLLER, NONE), wire, Fes.INVALID_HEADER_FIELD, 2);
        int len = encoder(NONE).termReq(buf, 0, PduType.C2H_TERM_REQ, reader.fes(), reader.fei(),
                reader.headerSegment(), 0, reader.headerBytes());
        Collector c = PduStreams.decode(reader(PduReader.Role.HOST, NONE), null, DataMode.SLICES, bytes(buf, 0, len));
        assertThat(c.out).singleElement().satisfies(d -> {
            TermReqPdu term = new TermReqPdu().wrap(seg(d.header()), 0);
            assertThat(term.fes()).isEqualTo(Fes.INVALID_HEADER_FIELD);
            assertThat(term.fei()).isEqualTo(2);
            assertThat(d.data()).isEqualTo(java.util.Arrays.copyOf(wire, 24));
        });
    }

    @Test
    void fesValuesAreTheSpecs() {
        // NVMe/TCP 1.0a "Fatal Error Status"; the same numbers as Linux and SPDK.
        assertThat(new int[] {Fes.INVALID_HEADER_FIELD, Fes.PDU_SEQUENCE_ERROR, Fes.HEADER_DIGEST_ERROR,
                Fes.DATA_TRANSFER_OUT_OF_RANGE, Fes.DATA_TRANSFER_LIMIT_EXCEEDED, Fes.R2T_LIMIT_EXCEEDED,
                Fes.UNSUPPORTED_PARAMETER}).containsExactly(1, 2, 3, 4, 5, 5, 6);
    }

    @Test
    void randomBytesNeverThrow() {
        Random random = new Random(7);
        for (int round = 0; round < 20_000; round++) {
            byte[] garbage = new byte[random.nextInt(400)];
            random.nextBytes(garbage);
            if (random.nextBoolean() && garbage.length > 0) {
                garbage[0] = (byte) random.nextInt(10); // a plausible type, to get past the first check
            }
            PduReader.Role role = random.nextBoolean() ? PduReader.Role.CONTROLLER : PduReader.Role.HOST;
            Negotiation n = new Negotiation(random.nextBoolean(), random.nextBoolean(), random.nextInt(4));
            PduReader reader = random.nextBoolean() ? new PduReader(role, 8192)
                    : reader(role, n);
            int[] cuts = random.ints(random.nextInt(4), 0, garbage.length + 1).sorted().toArray();
            assertThatCode(() -> PduStreams.decode(reader, null, DataMode.SLICES, garbage, cuts))
                    .as("round %d", round).doesNotThrowAnyException();
            assertThat(reader.headerBytes()).isLessThanOrEqualTo(PduType.MAX_HEADER_WITH_DIGEST);
            if (reader.fes() != Fes.NONE) {
                assertThat(reader.fes()).isBetween(Fes.INVALID_HEADER_FIELD, Fes.UNSUPPORTED_PARAMETER);
            }
        }
    }

    @Test
    void mutatedValidStreamsNeverThrow() {
        Random random = new Random(11);
        for (int round = 0; round < 5_000; round++) {
            PduReader.Role role = random.nextBoolean() ? PduReader.Role.CONTROLLER : PduReader.Role.HOST;
            Negotiation n = new Negotiation(random.nextBoolean(), random.nextBoolean(), random.nextInt(2));
            byte[] wire = role == PduReader.Role.CONTROLLER ? PduReaderSplitTest.hostToController(n)
                    : PduReaderSplitTest.controllerToHost(n);
            int mutations = 1 + random.nextInt(3);
            for (int i = 0; i < mutations; i++) {
                wire[random.nextInt(wire.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(4) == 0) {
                wire = java.util.Arrays.copyOf(wire, random.nextInt(wire.length));
            }
            byte[] w = wire;
            int[] cuts = random.ints(random.nextInt(6), 0, wire.length + 1).sorted().toArray();
            DataMode mode = random.nextBoolean() ? DataMode.SLICES : DataMode.INTO_BUFFER;
            assertThatCode(() -> PduStreams.decode(new PduReader(role, 8192), n, mode, w, cuts)).as("round %d", round)
                    .doesNotThrowAnyException();
        }
    }
}
