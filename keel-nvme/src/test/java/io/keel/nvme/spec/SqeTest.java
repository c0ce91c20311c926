package io.keel.nvme.spec;

import static io.keel.nvme.spec.Bytes.le;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class SqeTest {
    private final byte[] raw = new byte[128];
    private final MemorySegment seg = MemorySegment.ofArray(raw);
    private final Sqe sqe = new Sqe().wrap(seg, 64);

    @Test
    void commonFieldsAreReadFromTheirSpecOffsets() {
        int b = 64;
        raw[b] = 0x02;
        raw[b + 1] = (byte) 0x41; // PSDT 01b, FUSE 01b
        le(raw, b + 2, 0xBEEF, 2);
        le(raw, b + 4, 0x12345678, 4);
        le(raw, b + 8, 0x0A0B0C0D, 4);
        le(raw, b + 12, 0x01020304, 4);
        le(raw, b + 16, 0x1122334455667788L, 8);
        le(raw, b + 24, 0x0102030405060708L, 8);
        le(raw, b + 32, 0x1112131415161718L, 8);
        for (int n = 10; n <= 15; n++) {
            le(raw, b + 40 + (n - 10) * 4, 0xC0DE0000 | n, 4);
        }
        assertThat(sqe.opcode()).isEqualTo(Opcode.READ);
        assertThat(sqe.fuse()).isEqualTo(Sqe.FUSE_FIRST);
        assertThat(sqe.psdt()).isEqualTo(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        assertThat(sqe.cid()).isEqualTo(0xBEEF);
        assertThat(sqe.nsid()).isEqualTo(0x12345678);
        assertThat(sqe.cdw2()).isEqualTo(0x0A0B0C0D);
        assertThat(sqe.cdw3()).isEqualTo(0x01020304);
        assertThat(sqe.mptr()).isEqualTo(0x1122334455667788L);
        assertThat(sqe.prp1()).isEqualTo(0x0102030405060708L);
        assertThat(sqe.prp2()).isEqualTo(0x1112131415161718L);
        assertThat(sqe.cdw10()).isEqualTo(0xC0DE000A);
        assertThat(sqe.cdw11()).isEqualTo(0xC0DE000B);
        assertThat(sqe.cdw12()).isEqualTo(0xC0DE000C);
        assertThat(sqe.cdw13()).isEqualTo(0xC0DE000D);
        assertThat(sqe.cdw14()).isEqualTo(0xC0DE000E);
        assertThat(sqe.cdw15()).isEqualTo(0xC0DE000F);
        assertThat(sqe.cdw(12)).isEqualTo(0xC0DE000C);
        assertThat(raw[0]).as("nothing written before the wrapped entry").isZero();
    }

    @Test
    void settersWriteTheSpecOffsets() {
        sqe.clear().opcode(Opcode.WRITE).psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS).fuse(Sqe.FUSE_SECOND).cid(7).nsid(1)
                .mptr(-1L).cdw10(10).cdw11(11).cdw12(12).cdw13(13).cdw14(14).cdw15(15);
        assertThat(raw[64]).isEqualTo((byte) 0x01);
        assertThat(raw[65]).isEqualTo((byte) 0x42);
        assertThat(le(raw, 66, 2)).isEqualTo(7);
        assertThat(le(raw, 68, 4)).isEqualTo(1);
        assertThat(le(raw, 80, 8)).isEqualTo(-1L);
        for (int n = 10; n <= 15; n++) {
            assertThat(le(raw, 64 + 40 + (n - 10) * 4, 4)).isEqualTo(n);
        }
        assertThatThrownBy(() -> sqe.cdw(9)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sglDescriptorsForTcpAndRdma() {
        sqe.clear().sgl().address(0).length(4096).identifier(SglDescriptor.TYPE_TRANSPORT_DATA_BLOCK,
                SglDescriptor.SUBTYPE_TRANSPORT);
        assertThat(le(raw, 64 + 32, 4)).isEqualTo(4096);
        assertThat(raw[64 + 39]).isEqualTo((byte) 0x5A);
        assertThat(sqe.sgl().identifier()).isEqualTo(SglDescriptor.ID_TRANSPORT);

        sqe.sgl().address(0).length(512).identifier(SglDescriptor.ID_IN_CAPSULE);
        assertThat(raw[64 + 39]).isEqualTo((byte) 0x01);
        assertThat(sqe.sgl().type()).isEqualTo(SglDescriptor.TYPE_DATA_BLOCK);
        assertThat(sqe.sgl().subtype()).isEqualTo(SglDescriptor.SUBTYPE_OFFSET);

        // keyed: address 8 bytes, length 3 bytes at 8, key 4 bytes at 11, id at 15
        le(raw, 64 + 24, 0xFEEDFACECAFEL, 8);
        le(raw, 64 + 32, 0x123456, 3);
        le(raw, 64 + 35, 0xA1B2C3D4L, 4);
        raw[64 + 39] = 0x40;
        assertThat(sqe.sgl().address()).isEqualTo(0xFEEDFACECAFEL);
        assertThat(sqe.sgl().keyedLength()).isEqualTo(0x123456);
        assertThat(sqe.sgl().key()).isEqualTo(0xA1B2C3D4);
        assertThat(sqe.sgl().type()).isEqualTo(SglDescriptor.TYPE_KEYED_DATA_BLOCK);
        sqe.sgl().keyedLength(0xABCDEF).key(0x01020304).identifier(SglDescriptor.TYPE_KEYED_DATA_BLOCK,
                SglDescriptor.SUBTYPE_INVALIDATE_KEY);
        assertThat(le(raw, 64 + 32, 3)).isEqualTo(0xABCDEF);
        assertThat(le(raw, 64 + 35, 4)).isEqualTo(0x01020304);
        assertThat(raw[64 + 39]).isEqualTo((byte) 0x4F);
    }

    @Test
    void readWriteNlbIsZeroBased() {
        le(raw, 64 + 40, 0x0000_0001_0000_0002L, 8);
        le(raw, 64 + 48, 0xC000_0007L, 4); // LR, FUA, NLB 7
        assertThat(sqe.rw().slba()).isEqualTo(0x1_0000_0002L);
        assertThat(sqe.rw().nlb()).isEqualTo(7);
        assertThat(sqe.rw().blockCount()).isEqualTo(8);
        assertThat(sqe.rw().fua()).isTrue();
        assertThat(sqe.rw().limitedRetry()).isTrue();

        sqe.clear().rw().slba(1234).blockCount(1).fua(true);
        assertThat(le(raw, 64 + 48, 4)).isEqualTo(0x4000_0000L);
        sqe.rw().blockCount(65536).fua(false).deac(true);
        assertThat(le(raw, 64 + 48, 4)).isEqualTo(0x0200_FFFFL);
        assertThat(sqe.rw().blockCount()).isEqualTo(65536);
        assertThat(sqe.rw().deac()).isTrue();
        assertThatThrownBy(() -> sqe.rw().blockCount(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sqe.rw().blockCount(65537)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void identifyFields() {
        le(raw, 64 + 40, 0x0005_0001L, 4); // CNTID 5, CNS 1
        le(raw, 64 + 44, 0x0200_0003L, 4); // CSI 2, CNSSID 3
        assertThat(sqe.identify().cns()).isEqualTo(Cns.CONTROLLER);
        assertThat(sqe.identify().cntid()).isEqualTo(5);
        assertThat(sqe.identify().cnssid()).isEqualTo(3);
        assertThat(sqe.identify().csi()).isEqualTo(Cns.CSI_ZNS);
        sqe.clear().identify().cns(Cns.ACTIVE_NAMESPACE_LIST).cntid(0xFFFF);
        assertThat(le(raw, 64 + 40, 4)).isEqualTo(0xFFFF_0002L);
    }

    @Test
    void featuresFields() {
        sqe.clear().features().fid(FeatureId.NUMBER_OF_QUEUES).sv(true).value(FeatureId.numberOfQueues(128, 128));
        assertThat(le(raw, 64 + 40, 4)).isEqualTo(0x8000_0007L);
        assertThat(le(raw, 64 + 44, 4)).isEqualTo(0x007F_007FL);
        sqe.clear().features().fid(FeatureId.KEEP_ALIVE_TIMER).sel(FeatureId.SEL_SUPPORTED_CAPABILITIES);
        assertThat(le(raw, 64 + 40, 4)).isEqualTo(0x30FL);
        assertThat(sqe.features().sel()).isEqualTo(3);
        assertThat(sqe.features().sv()).isFalse();
        assertThat(sqe.features().fid()).isEqualTo(0x0F);
    }

    @Test
    void getLogPageFields() {
        // LID 2, LSP 0, RAE 1, NUMDL 0x007F (512 bytes)
        le(raw, 64 + 40, 0x007F_8002L, 4);
        le(raw, 64 + 44, 0x0009_0001L, 4); // LSI 9, NUMDU 1
        le(raw, 64 + 48, 0x0000_0001_0000_0200L, 8);
        le(raw, 64 + 56, 0x0080_0003L, 4); // OT, uuid 3
        assertThat(sqe.getLogPage().lid()).isEqualTo(LogPageId.SMART_HEALTH);
        assertThat(sqe.getLogPage().rae()).isTrue();
        assertThat(sqe.getLogPage().lsp()).isZero();
        assertThat(sqe.getLogPage().numdl()).isEqualTo(0x7F);
        assertThat(sqe.getLogPage().numdu()).isEqualTo(1);
        assertThat(sqe.getLogPage().numd()).isEqualTo(0x1_007FL);
        assertThat(sqe.getLogPage().lengthBytes()).isEqualTo((0x1_007FL + 1) * 4);
        assertThat(sqe.getLogPage().lsi()).isEqualTo(9);
        assertThat(sqe.getLogPage().lpo()).isEqualTo(0x1_0000_0200L);
        assertThat(sqe.getLogPage().uuidIndex()).isEqualTo(3);
        assertThat(sqe.getLogPage().ot()).isTrue();

        sqe.clear().getLogPage().lid(LogPageId.DISCOVERY).lengthBytes(4096).lpo(1024);
        assertThat(le(raw, 64 + 40, 4)).isEqualTo(0x03FF_0070L);
        assertThat(le(raw, 64 + 44, 4)).isZero();
        assertThat(le(raw, 64 + 48, 8)).isEqualTo(1024);
        sqe.getLogPage().lsp(0x7F).rae(false);
        assertThat(raw[64 + 41]).isEqualTo((byte) 0x7F);
    }

    @Test
    void abortAndDsmFields() {
        le(raw, 64 + 40, 0x0042_0001L, 4);
        assertThat(sqe.abort().sqid()).isEqualTo(1);
        assertThat(sqe.abort().cid()).isEqualTo(0x42);

        sqe.clear().opcode(Opcode.DATASET_MANAGEMENT).dsm().rangeCount(2).attributes(false, false, true);
        assertThat(le(raw, 64 + 40, 4)).isEqualTo(1);
        assertThat(le(raw, 64 + 44, 4)).isEqualTo(4);
        assertThat(sqe.dsm().deallocate()).isTrue();
        assertThat(sqe.dsm().nr()).isEqualTo(1);

        byte[] data = new byte[32];
        DsmRange r = new DsmRange().wrap(MemorySegment.ofArray(data), 16);
        r.contextAttributes(0x11).length(8).slba(0x1234_5678_9AL);
        assertThat(le(data, 16, 4)).isEqualTo(0x11);
        assertThat(le(data, 20, 4)).isEqualTo(8);
        assertThat(le(data, 24, 8)).isEqualTo(0x1234_5678_9AL);
    }

    @Test
    void connectCommandAndData() {
        sqe.clear().fabrics().init(Opcode.Fabrics.CONNECT, 0x10);
        sqe.sgl().address(0).length(ConnectData.SIZE).identifier(SglDescriptor.ID_IN_CAPSULE);
        sqe.connect().recfmt(0).qid(1).sqsize(127).cattr(Sqe.Connect.CATTR_DISABLE_SQ_FLOW_CONTROL).kato(120_000);
        assertThat(raw[64]).isEqualTo((byte) 0x7F);
        assertThat(le(raw, 66, 2)).isEqualTo(0x10);
        assertThat(raw[68]).isEqualTo((byte) 0x01);
        assertThat(le(raw, 64 + 40, 2)).isZero();
        assertThat(le(raw, 64 + 42, 2)).isEqualTo(1);
        assertThat(le(raw, 64 + 44, 2)).isEqualTo(127);
        assertThat(raw[64 + 46]).isEqualTo((byte) 4);
        assertThat(le(raw, 64 + 48, 4)).isEqualTo(120_000);
        assertThat(sqe.fabrics().isFabrics()).isTrue();
        assertThat(sqe.fabrics().fctype()).isEqualTo(Opcode.Fabrics.CONNECT);
        assertThat(sqe.connect().kato()).isEqualTo(120_000);

        byte[] d = new byte[ConnectData.SIZE];
        ConnectData cd = new ConnectData().wrap(MemorySegment.ofArray(d));
        java.util.UUID host = java.util.UUID.fromString("457c55b9-7ca9-452b-b5d9-1a3e8eb0874e");
        cd.hostId(host).cntlid(ConnectData.CNTLID_DYNAMIC).subnqn("nqn.2016-06.io.spdk:cnode1")
                .hostnqn("nqn.2014-08.org.nvmexpress:uuid:" + host);
        assertThat(d[0]).isEqualTo((byte) 0x45);
        assertThat(d[15]).isEqualTo((byte) 0x4E);
        assertThat(le(d, 16, 2)).isEqualTo(0xFFFF);
        assertThat(Bytes.ascii(d, 256, 26)).isEqualTo("nqn.2016-06.io.spdk:cnode1");
        assertThat(d[256 + 26]).isZero();
        assertThat(Bytes.ascii(d, 512, 32)).isEqualTo("nqn.2014-08.org.nvmexpress:uuid:");
        assertThat(cd.subnqn()).isEqualTo("nqn.2016-06.io.spdk:cnode1");
        assertThat(cd.hostnqn()).endsWith(host.toString());
        assertThat(cd.hostIdUuid()).isEqualTo(host);
        assertThatThrownBy(() -> cd.subnqn("x".repeat(256))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void propertyGetSetAndDisconnect() {
        sqe.clear().fabrics().init(Opcode.Fabrics.PROPERTY_SET, 1);
        sqe.property().sizeBytes(4).ofst(Properties.CC).value(0x0046_0001L);
        assertThat(raw[64 + 40]).isZero();
        assertThat(le(raw, 64 + 44, 4)).isEqualTo(0x14);
        assertThat(le(raw, 64 + 48, 8)).isEqualTo(0x0046_0001L);
        sqe.clear().fabrics().init(Opcode.Fabrics.PROPERTY_GET, 2);
        sqe.property().sizeBytes(8).ofst(Properties.CAP);
        assertThat(raw[64 + 40]).isEqualTo((byte) 1);
        assertThat(sqe.property().sizeBytes()).isEqualTo(8);
        assertThat(raw[68]).isEqualTo((byte) 0x04);
        sqe.clear().fabrics().init(Opcode.Fabrics.DISCONNECT, 3);
        assertThat(raw[68]).isEqualTo((byte) 0x08);
        assertThat(sqe.connect().recfmt()).isZero();
    }

    @Test
    void wrapChecksBounds() {
        assertThatThrownBy(() -> new Sqe().wrap(seg, 65)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new Cqe().wrap(MemorySegment.ofArray(new byte[15])))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void readingAndAnsweringCommandsDoesNotAllocate() {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] q = new byte[64 * 32];
        byte[] cq = new byte[16 * 32];
        MemorySegment sq = MemorySegment.ofArray(q);
        MemorySegment cs = MemorySegment.ofArray(cq);
        Sqe s = new Sqe();
        Cqe c = new Cqe();
        long sink = loop(s, c, sq, cs, 20_000);
        long before = bean.getCurrentThreadAllocatedBytes();
        sink += loop(s, c, sq, cs, 200_000);
        long allocated = bean.getCurrentThreadAllocatedBytes() - before;
        assertThat(sink).isNotZero();
        assertThat(allocated).as("bytes allocated for 200k commands").isLessThan(16 * 1024);
    }

    private static long loop(Sqe s, Cqe c, MemorySegment sq, MemorySegment cs, int n) {
        long sink = 1;
        for (int i = 0; i < n; i++) {
            int slot = i & 31;
            s.wrap(sq, slot * 64L).opcode(Opcode.READ).cid(i).nsid(1).rw().slba(i).blockCount(8);
            s.sgl().identifier(SglDescriptor.ID_TRANSPORT).length(4096);
            sink += s.rw().slba() + s.rw().blockCount() + s.sgl().length() + s.getLogPage().numd();
            c.wrap(cs, slot * 16L).sqhd(slot).sqid(1).cid(s.cid()).status(Status.LBA_OUT_OF_RANGE, true).phase(true);
            sink += c.statusCode();
        }
        return sink;
    }
}
