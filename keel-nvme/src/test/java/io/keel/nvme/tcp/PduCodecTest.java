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
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every PDU type encoded by PduEncoder, decoded by PduReader and checked field by field. */
class PduCodecTest {
    private final MemorySegment buf = Arena.ofAuto().allocate(1 << 16);

    static List<Arguments> negotiations() {
        List<Arguments> all = new ArrayList<>();
        for (boolean h : new boolean[] {false, true}) {
            for (boolean d : new boolean[] {false, true}) {
                for (int pda : new int[] {0, 3}) {
                    for (DataMode mode : DataMode.values()) {
                        all.add(Arguments.of(new Negotiation(h, d, pda), mode));
                    }
                }
            }
        }
        return all;
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    private Decoded decodeOne(PduReader.Role role, Negotiation n, DataMode mode, int len) {
        PduReader reader = new PduReader(role, 1 << 20);
        if (n != null) {
            reader.negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        }
        Collector c = PduStreams.decode(reader, null, mode, bytes(buf, 0, len));
        assertThat(c.out).hasSize(1);
        assertThat(c.out.getFirst().outcome()).isEqualTo("END");
        return c.out.getFirst();
    }

    private static MemorySegment seg(byte[] b) {
        return MemorySegment.ofArray(b);
    }

    @Test
    void icReqRoundTrip() {
        int len = new PduEncoder().icReq(buf, 0, 0, 5, true, false, 31);
        assertThat(len).isEqualTo(128);
        PduReader reader = new PduReader(PduReader.Role.CONTROLLER, 8192);
        Collector c = PduStreams.decode(reader, null, DataMode.SLICES, bytes(buf, 0, len));
        assertThat(c.out).singleElement().extracting(Decoded::outcome).isEqualTo("END");
        IcReqPdu pdu = new IcReqPdu().wrap(seg(c.out.getFirst().header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.IC_REQ);
        assertThat(pdu.flags()).isZero();
        assertThat(pdu.hlen()).isEqualTo(128);
        assertThat(pdu.pdo()).isZero();
        assertThat(pdu.plen()).isEqualTo(128);
        assertThat(pdu.pfv()).isZero();
        assertThat(pdu.hpda()).isEqualTo(5);
        assertThat(pdu.headerDigestEnable()).isTrue();
        assertThat(pdu.dataDigestEnable()).isFalse();
        assertThat(pdu.maxr2t()).isEqualTo(31);
        assertThat(reader.initialized()).isTrue();
    }

    @Test
    void icRespRoundTrip() {
        int len = new PduEncoder().icResp(buf, 0, 0, 7, false, true, 131072);
        PduReader reader = new PduReader(PduReader.Role.HOST, 8192);
        Collector c = PduStreams.decode(reader, null, DataMode.SLICES, bytes(buf, 0, len));
        IcRespPdu pdu = new IcRespPdu().wrap(seg(c.out.getFirst().header()), 0);
        assertThat(c.out.getFirst().outcome()).isEqualTo("END");
        assertThat(pdu.type()).isEqualTo(PduType.IC_RESP);
        assertThat(pdu.plen()).isEqualTo(128);
        assertThat(pdu.cpda()).isEqualTo(7);
        assertThat(pdu.headerDigestEnable()).isFalse();
        assertThat(pdu.dataDigestEnable()).isTrue();
        assertThat(pdu.maxh2cdata()).isEqualTo(131072);
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void capsuleCmdWithoutData(Negotiation n, DataMode mode) {
        byte[] sqe = pattern(64, 1);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.capsuleCmd(buf, 0, seg(sqe), 0, null, 0, 0);
        assertThat(len).isEqualTo(72 + (n.hdgst() ? 4 : 0));
        Decoded d = decodeOne(PduReader.Role.CONTROLLER, n, mode, len);
        CapsuleCmdPdu pdu = new CapsuleCmdPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.CAPSULE_CMD);
        assertThat(pdu.hlen()).isEqualTo(72);
        assertThat(pdu.pdo()).isZero();
        assertThat(pdu.plen()).isEqualTo(len);
        assertThat(pdu.headerDigest()).isEqualTo(n.hdgst());
        assertThat(pdu.dataDigest()).isFalse();
        assertThat(bytes(pdu.sqe(), 0, 64)).isEqualTo(sqe);
        assertThat(pdu.commandId()).isEqualTo((sqe[2] & 0xFF) | (sqe[3] & 0xFF) << 8);
        assertThat(d.data()).isNull();
        if (n.hdgst()) {
            assertThat(pdu.storedHeaderDigest()).isEqualTo(crc(d.header(), 0, 72));
        }
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void capsuleCmdWithInCapsuleData(Negotiation n, DataMode mode) {
        byte[] sqe = pattern(64, 2);
        byte[] data = pattern(1000, 3);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.capsuleCmd(buf, 0, seg(sqe), 0, seg(data), 0, data.length);
        int align = (n.rxPda() + 1) * 4;
        int pdo = ((72 + (n.hdgst() ? 4 : 0)) + align - 1) / align * align;
        assertThat(len).isEqualTo(pdo + 1000 + (n.ddgst() ? 4 : 0));
        Decoded d = decodeOne(PduReader.Role.CONTROLLER, n, mode, len);
        CapsuleCmdPdu pdu = new CapsuleCmdPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.pdo()).isEqualTo(pdo);
        assertThat(pdu.plen()).isEqualTo(len);
        assertThat(pdu.headerDigest()).isEqualTo(n.hdgst());
        assertThat(pdu.dataDigest()).isEqualTo(n.ddgst());
        assertThat(bytes(pdu.sqe(), 0, 64)).isEqualTo(sqe);
        assertThat(d.data()).isEqualTo(data);
        byte[] wire = bytes(buf, 0, len);
        if (n.ddgst()) {
            assertThat(le32(wire, pdo + 1000)).isEqualTo(crc(data, 0, 1000));
        }
        for (int i = 72 + (n.hdgst() ? 4 : 0); i < pdo; i++) {
            assertThat(wire[i]).as("padding byte %d", i).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void capsuleResp(Negotiation n, DataMode mode) {
        byte[] cqe = pattern(16, 4);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.capsuleResp(buf, 0, seg(cqe), 0);
        assertThat(len).isEqualTo(24 + (n.hdgst() ? 4 : 0));
        Decoded d = decodeOne(PduReader.Role.HOST, n, mode, len);
        CapsuleRespPdu pdu = new CapsuleRespPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.CAPSULE_RESP);
        assertThat(pdu.hlen()).isEqualTo(24);
        assertThat(pdu.plen()).isEqualTo(len);
        assertThat(pdu.headerDigest()).isEqualTo(n.hdgst());
        assertThat(bytes(pdu.cqe(), 0, 16)).isEqualTo(cqe);
        assertThat(pdu.commandId()).isEqualTo((cqe[12] & 0xFF) | (cqe[13] & 0xFF) << 8);
        assertThat(pdu.cqeOffset()).isEqualTo(8);
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void h2cData(Negotiation n, DataMode mode) {
        byte[] data = pattern(4096, 5);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.h2cData(buf, 0, 0xBEEF, 0x1234, 0x10000, seg(data), 0, data.length, true);
        Decoded d = decodeOne(PduReader.Role.CONTROLLER, n, mode, len);
        H2CDataPdu pdu = new H2CDataPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.H2C_DATA);
        assertThat(pdu.hlen()).isEqualTo(24);
        assertThat(pdu.plen()).isEqualTo(len);
        assertThat(pdu.cccid()).isEqualTo(0xBEEF);
        assertThat(pdu.ttag()).isEqualTo(0x1234);
        assertThat(pdu.datao()).isEqualTo(0x10000);
        assertThat(pdu.datal()).isEqualTo(4096);
        assertThat(pdu.lastPdu()).isTrue();
        assertThat(pdu.headerDigest()).isEqualTo(n.hdgst());
        assertThat(pdu.dataDigest()).isEqualTo(n.ddgst());
        assertThat(d.data()).isEqualTo(data);
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void c2hData(Negotiation n, DataMode mode) {
        byte[] data = pattern(513, 6);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.c2hData(buf, 0, 7, 0, 0xFFFF_FFF0L, seg(data), 0, data.length, true, true);
        Decoded d = decodeOne(PduReader.Role.HOST, n, mode, len);
        C2HDataPdu pdu = new C2HDataPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.C2H_DATA);
        assertThat(pdu.cccid()).isEqualTo(7);
        assertThat(pdu.ttag()).isZero();
        assertThat(pdu.datao()).isEqualTo(0xFFFF_FFF0L);
        assertThat(pdu.datal()).isEqualTo(513);
        assertThat(pdu.lastPdu()).isTrue();
        assertThat(pdu.success()).isTrue();
        assertThat(pdu.dataDigest()).isEqualTo(n.ddgst());
        assertThat(d.data()).isEqualTo(data);
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void r2t(Negotiation n, DataMode mode) {
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.r2t(buf, 0, 0x42, 0x99, 8192, 65536);
        assertThat(len).isEqualTo(24 + (n.hdgst() ? 4 : 0));
        Decoded d = decodeOne(PduReader.Role.HOST, n, mode, len);
        R2TPdu pdu = new R2TPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.R2T);
        assertThat(pdu.hlen()).isEqualTo(24);
        assertThat(pdu.pdo()).isZero();
        assertThat(pdu.cccid()).isEqualTo(0x42);
        assertThat(pdu.ttag()).isEqualTo(0x99);
        assertThat(pdu.r2to()).isEqualTo(8192);
        assertThat(pdu.r2tl()).isEqualTo(65536);
    }

    @ParameterizedTest
    @MethodSource("negotiations")
    void termReqBothDirections(Negotiation n, DataMode mode) {
        byte[] offending = pattern(200, 7);
        PduEncoder enc = new PduEncoder().negotiated(n.hdgst(), n.ddgst(), n.rxPda());
        int len = enc.termReq(buf, 0, PduType.H2C_TERM_REQ, Fes.HEADER_DIGEST_ERROR, 0x01020304L, seg(offending), 0,
                offending.length);
        assertThat(len).as("offending header clipped to 128 bytes").isEqualTo(24 + 128);
        Decoded d = decodeOne(PduReader.Role.CONTROLLER, n, mode, len);
        TermReqPdu pdu = new TermReqPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.H2C_TERM_REQ);
        assertThat(pdu.flags()).isZero();
        assertThat(pdu.hlen()).isEqualTo(24);
        assertThat(pdu.fes()).isEqualTo(Fes.HEADER_DIGEST_ERROR);
        assertThat(pdu.fei()).isEqualTo(0x01020304L);
        assertThat(pdu.errorDataLength()).isEqualTo(128);
        assertThat(d.data()).isEqualTo(java.util.Arrays.copyOf(offending, 128));

        len = enc.termReq(buf, 0, PduType.C2H_TERM_REQ, Fes.PDU_SEQUENCE_ERROR, 0, null, 0, 0);
        assertThat(len).isEqualTo(24);
        d = decodeOne(PduReader.Role.HOST, n, mode, len);
        pdu = new TermReqPdu().wrap(seg(d.header()), 0);
        assertThat(pdu.type()).isEqualTo(PduType.C2H_TERM_REQ);
        assertThat(pdu.fes()).isEqualTo(Fes.PDU_SEQUENCE_ERROR);
        assertThat(d.data()).isNull();
    }

    @Test
    void dataWrittenInPlaceThenSealed() {
        PduEncoder enc = new PduEncoder().negotiated(true, true, 0);
        byte[] data = pattern(300, 9);
        int len = enc.c2hData(buf, 0, 1, 0, 0, null, 0, data.length, true, false);
        int pdo = enc.dataOffset(PduType.DATA_HLEN);
        assertThat(pdo).isEqualTo(28);
        assertThat(len).isEqualTo(28 + 300 + 4);
        MemorySegment.copy(seg(data), 0, buf, pdo, data.length);
        enc.sealDataDigest(buf, 0);
        assertThat(enc.dataDigestOf(seg(data), 0, data.length)).isEqualTo(crc(data, 0, data.length));
        Decoded d = decodeOne(PduReader.Role.HOST, new Negotiation(true, true, 0), DataMode.SLICES, len);
        assertThat(d.data()).isEqualTo(data);
    }

    @Test
    void flyweightsWriteAndReadAtAnOffset() {
        MemorySegment s = Arena.ofAuto().allocate(256);
        H2CDataPdu pdu = new H2CDataPdu().wrap(s, 37);
        pdu.type(PduType.H2C_DATA).flags(TcpPdu.FLAG_LAST_PDU).hlen(24).pdo(24).plen(0xFFFF_FFFFL);
        pdu.cccid(0xFFFF).ttag(1).datao(0x8000_0000L).datal(12);
        assertThat(pdu.type()).isEqualTo(6);
        assertThat(pdu.lastPdu()).isTrue();
        assertThat(pdu.plen()).isEqualTo(0xFFFF_FFFFL);
        assertThat(pdu.cccid()).isEqualTo(0xFFFF);
        assertThat(pdu.datao()).isEqualTo(0x8000_0000L);
        assertThat(bytes(s, 37, 8)).containsExactly(6, 4, 24, 24, -1, -1, -1, -1);
        assertThat(bytes(s, 37 + 8, 4)).containsExactly(-1, -1, 1, 0);
        assertThat(pdu.toString()).contains("H2CData");
    }
}
