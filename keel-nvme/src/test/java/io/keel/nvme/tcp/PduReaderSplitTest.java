package io.keel.nvme.tcp;

import static io.keel.nvme.tcp.PduStreams.bytes;
import static io.keel.nvme.tcp.PduStreams.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.tcp.PduStreams.Collector;
import io.keel.nvme.tcp.PduStreams.DataMode;
import io.keel.nvme.tcp.PduStreams.Decoded;
import io.keel.nvme.tcp.PduStreams.Negotiation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A connection's worth of PDUs in each direction, fed to the reader cut at every split point, byte by
 * byte, at random cuts and coalesced in one buffer: every way gives the same PDUs as the encoder wrote.
 */
class PduReaderSplitTest {
    static List<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (PduReader.Role role : PduReader.Role.values()) {
            for (boolean h : new boolean[] {false, true}) {
                for (boolean d : new boolean[] {false, true}) {
                    for (DataMode mode : DataMode.values()) {
                        all.add(Arguments.of(role, new Negotiation(h, d, h ? 1 : 0), mode));
                    }
                }
            }
        }
        return all;
    }

    /** ICReq, CapsuleCmd without and with in-capsule data, two H2CData, H2CTermReq. */
    static byte[] hostToController(Negotiation n) {
        MemorySegment buf = Arena.ofAuto().allocate(4096);
        PduEncoder enc = new PduEncoder();
        long p = enc.icReq(buf, 0, 0, 0, n.hdgst(), n.ddgst(), 0);
        enc.negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        p += enc.capsuleCmd(buf, p, MemorySegment.ofArray(pattern(64, 1)), 0, null, 0, 0);
        p += enc.capsuleCmd(buf, p, MemorySegment.ofArray(pattern(64, 2)), 0, MemorySegment.ofArray(pattern(50, 3)), 0,
                50);
        p += enc.h2cData(buf, p, 3, 9, 0, MemorySegment.ofArray(pattern(33, 4)), 0, 33, false);
        p += enc.h2cData(buf, p, 3, 9, 33, MemorySegment.ofArray(pattern(7, 5)), 0, 7, true);
        p += enc.termReq(buf, p, PduType.H2C_TERM_REQ, Fes.R2T_LIMIT_EXCEEDED, 0, MemorySegment.ofArray(pattern(24, 6)),
                0, 24);
        return bytes(buf, 0, p);
    }

    /** ICResp, R2T, C2HData (two, the last with SUCCESS), CapsuleResp, C2HTermReq. */
    static byte[] controllerToHost(Negotiation n) {
        MemorySegment buf = Arena.ofAuto().allocate(4096);
        PduEncoder enc = new PduEncoder();
        long p = enc.icResp(buf, 0, 0, 0, n.hdgst(), n.ddgst(), 8192);
        enc.negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        p += enc.r2t(buf, p, 1, 2, 0, 4096);
        p += enc.c2hData(buf, p, 4, 0, 0, MemorySegment.ofArray(pattern(41, 7)), 0, 41, false, false);
        p += enc.c2hData(buf, p, 4, 0, 41, MemorySegment.ofArray(pattern(5, 8)), 0, 5, true, true);
        p += enc.capsuleResp(buf, p, MemorySegment.ofArray(pattern(16, 9)), 0);
        p += enc.termReq(buf, p, PduType.C2H_TERM_REQ, Fes.INVALID_HEADER_FIELD, 3, null, 0, 0);
        return bytes(buf, 0, p);
    }

    private static byte[] stream(PduReader.Role role, Negotiation n) {
        return role == PduReader.Role.CONTROLLER ? hostToController(n) : controllerToHost(n);
    }

    private static List<Decoded> decode(PduReader.Role role, Negotiation n, DataMode mode, byte[] s, int... cuts) {
        Collector c = PduStreams.decode(new PduReader(role, 1 << 16), n, mode, s, cuts);
        assertThat(c.failed).as("error %s", c.out).isFalse();
        return c.out;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void coalescedInOneBuffer(PduReader.Role role, Negotiation n, DataMode mode) {
        List<Decoded> out = decode(role, n, mode, stream(role, n));
        assertThat(out).extracting(Decoded::outcome).containsOnly("END").hasSize(6);
        if (role == PduReader.Role.CONTROLLER) {
            assertThat(out).extracting(Decoded::type).containsExactly(PduType.IC_REQ, PduType.CAPSULE_CMD,
                    PduType.CAPSULE_CMD, PduType.H2C_DATA, PduType.H2C_DATA, PduType.H2C_TERM_REQ);
            assertThat(out).extracting(Decoded::data).containsExactly(null, null, pattern(50, 3), pattern(33, 4),
                    pattern(7, 5), pattern(24, 6));
            assertThat(Arrays.copyOfRange(out.get(2).header(), 8, 72)).isEqualTo(pattern(64, 2));
        } else {
            assertThat(out).extracting(Decoded::type).containsExactly(PduType.IC_RESP, PduType.R2T, PduType.C2H_DATA,
                    PduType.C2H_DATA, PduType.CAPSULE_RESP, PduType.C2H_TERM_REQ);
            assertThat(out).extracting(Decoded::data).containsExactly(null, null, pattern(41, 7), pattern(5, 8), null,
                    null);
            assertThat(Arrays.copyOfRange(out.get(4).header(), 8, 24)).isEqualTo(pattern(16, 9));
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everySplitPointGivesTheSamePdus(PduReader.Role role, Negotiation n, DataMode mode) {
        byte[] s = stream(role, n);
        List<Decoded> expected = decode(role, n, mode, s);
        for (int cut = 0; cut <= s.length; cut++) {
            assertThat(decode(role, n, mode, s, cut)).as("cut at %d", cut).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void byteByByte(PduReader.Role role, Negotiation n, DataMode mode) {
        byte[] s = stream(role, n);
        List<Decoded> expected = decode(role, n, mode, s);
        Collector c = PduStreams.decodeByteByByte(new PduReader(role, 1 << 16), n, mode, s);
        assertThat(c.out).isEqualTo(expected);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void randomCuts(PduReader.Role role, Negotiation n, DataMode mode) {
        byte[] s = stream(role, n);
        List<Decoded> expected = decode(role, n, mode, s);
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            int[] cuts = random.ints(1 + random.nextInt(8), 0, s.length + 1).sorted().toArray();
            assertThat(decode(role, n, mode, s, cuts)).as("cuts %s", Arrays.toString(cuts)).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void manyPdusAtAnOffsetInsideOneLargeSegment(PduReader.Role role, Negotiation n, DataMode mode) {
        byte[] s = stream(role, n);
        MemorySegment big = Arena.ofAuto().allocate(s.length + 100);
        MemorySegment.copy(MemorySegment.ofArray(s), 0, big, 37, s.length);
        Collector c = new Collector(new PduReader(role, 1 << 16), n, mode);
        assertThat(c.feed(big, 37, s.length)).isTrue();
        assertThat(c.out).isEqualTo(decode(role, n, mode, s));
    }
}
