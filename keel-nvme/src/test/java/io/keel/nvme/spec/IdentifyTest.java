package io.keel.nvme.spec;

import static io.keel.nvme.spec.Bytes.le;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Builds what SPDK v26.05 reported for cnode1 (shared/reference/spdk-nvme-identify-subsystem.txt). */
class IdentifyTest {

    static IdentifyController spdkLikeController(MemorySegment seg) {
        return new IdentifyController().wrap(seg).clear()
                .vid(0x8086).ssvid(0x8086).sn("SPDK00000000000001").mn("SPDK_Controller1").fr("26.05")
                .rab(6).ieee(0x5CD2E4).cmic(0x3).mdts(5).cntlid(1).ver(Properties.VS_2_0)
                .oaes(IdentifyController.OAES_NAMESPACE_ATTRIBUTE).ctratt(IdentifyController.CTRATT_HOST_ID_128)
                .oacs(0).acl(3).aerl(3).frmw(0)
                .lpa(IdentifyController.LPA_COMMANDS_EFFECTS | IdentifyController.LPA_EXTENDED_DATA
                        | IdentifyController.LPA_SUPPORTED_LOG_PAGES)
                .elpe(127).npss(0).kas(100).sqes(6, 6).cqes(4, 4).maxcmd(128).nn(32)
                .oncs(IdentifyController.ONCS_COMPARE | IdentifyController.ONCS_WRITE_ZEROES
                        | IdentifyController.ONCS_RESERVATIONS | IdentifyController.ONCS_COPY)
                .fuses(IdentifyController.FUSES_COMPARE_AND_WRITE).vwc(IdentifyController.VWC_PRESENT)
                .awun(0).awupf(0).acwu(0)
                .sgls(IdentifyController.SGLS_SUPPORTED | IdentifyController.SGLS_KEYED | IdentifyController.SGLS_OFFSET)
                .subnqn("nqn.2016-06.io.spdk:cnode1")
                .ioccsz((8192 + 64) / 16).iorcsz(1).icdoff(0).fcatt(0).msdbd(16).ofcs(IdentifyController.OFCS_DISCONNECT);
    }

    @Test
    void identifyControllerFieldsLandWhereTheSpecPutsThem() {
        byte[] d = new byte[4096];
        spdkLikeController(MemorySegment.ofArray(d));
        assertThat(le(d, 0, 2)).isEqualTo(0x8086);
        assertThat(le(d, 2, 2)).isEqualTo(0x8086);
        assertThat(Bytes.ascii(d, 4, 20)).isEqualTo("SPDK00000000000001  ");
        assertThat(Bytes.ascii(d, 24, 40)).isEqualTo("SPDK_Controller1" + " ".repeat(24));
        assertThat(Bytes.ascii(d, 64, 8)).isEqualTo("26.05   ");
        assertThat(d[72]).isEqualTo((byte) 6);
        assertThat(new byte[] {d[73], d[74], d[75]}).containsExactly(0xE4, 0xD2, 0x5C);
        assertThat(d[76]).isEqualTo((byte) 3);
        assertThat(d[77]).isEqualTo((byte) 5); // 2^5 * 4096 = 131072
        assertThat(le(d, 78, 2)).isEqualTo(1);
        assertThat(le(d, 80, 4)).isEqualTo(0x00020000);
        assertThat(le(d, 92, 4)).isEqualTo(0x100);
        assertThat(le(d, 96, 4)).isEqualTo(1);
        assertThat(d[258]).isEqualTo((byte) 3); // ACL 0-based: 4
        assertThat(d[259]).isEqualTo((byte) 3); // AERL 0-based: 4
        assertThat(d[261]).isEqualTo((byte) 0x26);
        assertThat(d[262] & 0xFF).isEqualTo(127); // 128 error log entries
        assertThat(le(d, 320, 2)).isEqualTo(100); // KAS 10000 ms
        assertThat(d[512]).isEqualTo((byte) 0x66);
        assertThat(d[513]).isEqualTo((byte) 0x44);
        assertThat(le(d, 514, 2)).isEqualTo(128);
        assertThat(le(d, 516, 4)).isEqualTo(32);
        assertThat(le(d, 520, 2)).isEqualTo(0x129);
        assertThat(le(d, 522, 2)).isEqualTo(1);
        assertThat(d[525]).isEqualTo((byte) 1);
        assertThat(le(d, 536, 4)).isEqualTo(0x100005);
        assertThat(Bytes.ascii(d, 768, 26)).isEqualTo("nqn.2016-06.io.spdk:cnode1");
        assertThat(d[768 + 26]).isZero();
        assertThat(le(d, 1792, 4)).isEqualTo(516);
        assertThat(le(d, 1796, 4)).isEqualTo(1);
        assertThat(le(d, 1800, 2)).isZero();
        assertThat(d[1802]).isZero();
        assertThat(d[1803]).isEqualTo((byte) 16);
        assertThat(le(d, 1804, 2)).isEqualTo(1);
    }

    @Test
    void identifyControllerReadsBackWhatTheSpecOffsetsHold() {
        byte[] d = new byte[4096];
        IdentifyController c = new IdentifyController().wrap(MemorySegment.ofArray(d));
        le(d, 111, 2, 1);
        le(d, 128, 7, 2);
        le(d, 266, 343, 2);
        le(d, 268, 353, 2);
        le(d, 526, 0x1234, 2);
        le(d, 528, 0x5678, 2);
        le(d, 532, 0x9ABC, 2);
        le(d, 540, 77, 4);
        le(d, 2048, 2500, 2);
        d[2048 + 3] = 2;
        assertThat(c.cntrltype()).isEqualTo(IdentifyController.CNTRLTYPE_DISCOVERY);
        assertThat(c.crdt1()).isEqualTo(7);
        assertThat(c.wctemp()).isEqualTo(343);
        assertThat(c.cctemp()).isEqualTo(353);
        assertThat(c.awun()).isEqualTo(0x1234);
        assertThat(c.awupf()).isEqualTo(0x5678);
        assertThat(c.acwu()).isEqualTo(0x9ABC);
        assertThat(c.mnan()).isEqualTo(77);
        assertThat(c.psdMaxPower(0)).isEqualTo(2500);
        assertThat(c.psdFlags(0)).isEqualTo(2);
        d[4] = 'A';
        assertThat(c.sn()).isEqualTo("A");
        assertThatThrownBy(() -> c.mn("x".repeat(41))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.psdMaxPower(32)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void discoveryControllerLikeSpdks() {
        byte[] d = new byte[4096];
        IdentifyController c = new IdentifyController().wrap(MemorySegment.ofArray(d))
                .fr("26.05").mdts(5).ver(Properties.VS_2_0).cntrltype(IdentifyController.CNTRLTYPE_DISCOVERY)
                .oaes(IdentifyController.OAES_DISCOVERY_LOG_CHANGE).acl(0).aerl(3).lpa(IdentifyController.LPA_EXTENDED_DATA)
                .elpe(127).sgls(0x100005).subnqn(DiscoveryLog.DISCOVERY_NQN);
        assertThat(le(d, 92, 4)).isEqualTo(0x8000_0000L);
        assertThat(c.oaes()).isEqualTo(IdentifyController.OAES_DISCOVERY_LOG_CHANGE);
        assertThat(c.subnqn()).isEqualTo("nqn.2014-08.org.nvmexpress.discovery");
        assertThat(c.nn()).isZero();
        assertThat(c.vid()).isZero();
    }

    @Test
    void identifyNamespaceLikeSpdksFirstNamespace() {
        byte[] d = new byte[4096];
        UUID uuid = UUID.fromString("457c55b9-7ca9-452b-b5d9-1a3e8eb0874e");
        IdentifyNamespace ns = new IdentifyNamespace().wrap(MemorySegment.ofArray(d)).clear()
                .nsze(262144).ncap(262144).nuse(262144).nsfeat(IdentifyNamespace.NSFEAT_NS_ATOMICS)
                .nlbaf(0).formatIndex(0).nmic(IdentifyNamespace.NMIC_SHARED).mssrl(33).mcl(33).msrc(0)
                .nguid(uuid).lbaf(0, 0, 12, 0);
        ns.eui64(Bytes.hex("0011223344556677"));
        assertThat(le(d, 0, 8)).isEqualTo(262144);
        assertThat(le(d, 8, 8)).isEqualTo(262144);
        assertThat(le(d, 16, 8)).isEqualTo(262144);
        assertThat(d[24]).isEqualTo((byte) 2);
        assertThat(d[25]).isZero();
        assertThat(d[26]).isZero();
        assertThat(d[30]).isEqualTo((byte) 1);
        assertThat(le(d, 74, 2)).isEqualTo(33);
        assertThat(le(d, 76, 4)).isEqualTo(33);
        assertThat(java.util.Arrays.copyOfRange(d, 104, 120)).containsExactly(Bytes.hex("457C55B97CA9452BB5D91A3E8EB0874E"));
        assertThat(java.util.Arrays.copyOfRange(d, 120, 128)).containsExactly(Bytes.hex("0011223344556677"));
        assertThat(le(d, 128, 4)).isEqualTo(12 << 16);
        assertThat(ns.blockSize()).isEqualTo(4096);
        assertThat(ns.nguidUuid()).isEqualTo(uuid);
        assertThat(ns.nsze() * ns.blockSize()).isEqualTo(1L << 30);

        ns.lbaf(17, 8, 9, 2).formatIndex(17);
        assertThat(le(d, 128 + 17 * 4, 4)).isEqualTo(8 | 9 << 16 | 2 << 24);
        assertThat(d[26]).isEqualTo((byte) 0x21); // low nibble 1, bits 6:5 = 1
        assertThat(ns.formatIndex()).isEqualTo(17);
        assertThat(ns.lbafMetadataSize(17)).isEqualTo(8);
        assertThat(ns.lbafRelativePerformance(17)).isEqualTo(2);
        assertThatThrownBy(() -> ns.lbaf(64)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void activeNamespaceListStartsAfterTheGivenNsid() {
        byte[] d = new byte[4096];
        NamespaceIdList list = new NamespaceIdList().wrap(MemorySegment.ofArray(d));
        int[] active = {1, 2, 5, 9};
        assertThat(list.fillActive(active, active.length, 0)).isEqualTo(4);
        assertThat(le(d, 0, 4)).isEqualTo(1);
        assertThat(le(d, 12, 4)).isEqualTo(9);
        assertThat(le(d, 16, 4)).isZero();
        assertThat(list.fillActive(active, active.length, 2)).isEqualTo(2);
        assertThat(list.nsid(0)).isEqualTo(5);
        assertThat(list.count()).isEqualTo(2);
        list.fillChanged(new int[1025], 1025);
        assertThat(le(d, 0, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(le(d, 4, 4)).isZero();
    }

    @Test
    void namespaceIdentificationDescriptors() {
        byte[] d = new byte[4096];
        UUID uuid = UUID.fromString("4298e564-75b3-4b46-824e-b6a7f1212552");
        NamespaceIdDescriptorList l = new NamespaceIdDescriptorList().wrap(MemorySegment.ofArray(d)).reset()
                .addEui64(Bytes.hex("0102030405060708")).addNguid(Uuids.bytes(uuid)).addUuid(uuid).addCsi(Cns.CSI_NVM);
        assertThat(new byte[] {d[0], d[1], d[2], d[3]}).containsExactly(1, 8, 0, 0);
        assertThat(d[4]).isEqualTo((byte) 1);
        assertThat(new byte[] {d[12], d[13]}).containsExactly(2, 16);
        assertThat(java.util.Arrays.copyOfRange(d, 16, 32)).containsExactly(Bytes.hex("4298E56475B34B46824EB6A7F1212552"));
        assertThat(new byte[] {d[32], d[33]}).containsExactly(3, 16);
        assertThat(new byte[] {d[52], d[53], d[56]}).containsExactly(4, 1, 0);
        assertThat(d[57]).isZero();
        int pos = l.find(NamespaceIdDescriptorList.NIDT_UUID);
        assertThat(pos).isEqualTo(32);
        assertThat(Uuids.read(MemorySegment.ofArray(l.id(pos)), 0)).isEqualTo(uuid);
        assertThat(l.next(l.find(NamespaceIdDescriptorList.NIDT_CSI))).isEqualTo(57);
        assertThat(l.type(57)).isZero();
    }
}
