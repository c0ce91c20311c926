package io.keel.nvme.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PropertiesTest {

    @Test
    void offsetsAndSizes() {
        assertThat(Properties.CAP).isEqualTo(0x00);
        assertThat(Properties.VS).isEqualTo(0x08);
        assertThat(Properties.CC).isEqualTo(0x14);
        assertThat(Properties.CSTS).isEqualTo(0x1C);
        assertThat(Properties.NSSR).isEqualTo(0x20);
        assertThat(Properties.sizeOf(Properties.CAP)).isEqualTo(8);
        assertThat(Properties.sizeOf(Properties.VS)).isEqualTo(4);
        assertThat(Properties.sizeOf(Properties.CC)).isEqualTo(4);
        assertThat(Properties.sizeOf(Properties.CSTS)).isEqualTo(4);
        assertThat(Properties.sizeOf(0x04)).isEqualTo(-1);
    }

    @Test
    void capLikeSpdks() {
        // SPDK: max queue entries 128, contiguous queues required, reset timeout 15000 ms,
        // doorbell stride 4 bytes, NVM command set, page size 4096..4096
        long cap = Properties.Cap.of(127, true, 0, 30, 0, false, Properties.Cap.CSS_NVM, 0, 0);
        assertThat(cap).isEqualTo(0x0000_0020_1E01_007FL);
        assertThat(Properties.Cap.mqes(cap) + 1).isEqualTo(128);
        assertThat(Properties.Cap.cqr(cap)).isTrue();
        assertThat(Properties.Cap.to(cap) * 500).isEqualTo(15000);
        assertThat(4 << Properties.Cap.dstrd(cap)).isEqualTo(4);
        assertThat(Properties.Cap.css(cap)).isEqualTo(1);
        assertThat(4096 << Properties.Cap.mpsmin(cap)).isEqualTo(4096);
        assertThat(4096 << Properties.Cap.mpsmax(cap)).isEqualTo(4096);
        assertThat(Properties.Cap.nssrs(cap)).isFalse();
        long all = Properties.Cap.of(0xFFFF, false, 3, 0xFF, 0xF, true, 0xFF, 0xF, 0xF);
        assertThat(all).isEqualTo(0x00FF_1FFF_FF06_FFFFL);
    }

    @Test
    void version() {
        assertThat(Properties.VS_2_0).isEqualTo(0x0002_0000);
        assertThat(Properties.VS_1_3).isEqualTo(0x0001_0300);
        assertThat(Properties.versionMajor(Properties.VS_1_3)).isEqualTo(1);
        assertThat(Properties.versionMinor(Properties.VS_1_3)).isEqualTo(3);
    }

    @Test
    void ccAndCsts() {
        // what the Linux host writes: EN, IOSQES 6, IOCQES 4, MPS 0, CSS NVM, AMS RR
        int cc = Properties.Cc.of(true, 0, 0, 0, Properties.Cc.SHN_NONE, 6, 4);
        assertThat(cc).isEqualTo(0x0046_0001);
        assertThat(Properties.Cc.en(cc)).isTrue();
        assertThat(Properties.Cc.iosqes(cc)).isEqualTo(6);
        assertThat(Properties.Cc.iocqes(cc)).isEqualTo(4);
        int shutdown = cc | Properties.Cc.SHN_NORMAL << 14;
        assertThat(Properties.Cc.shn(shutdown)).isEqualTo(Properties.Cc.SHN_NORMAL);
        assertThat(Properties.Cc.of(false, 7, 0xF, 7, 3, 0, 0)).isEqualTo(0xFFF0);
        assertThat(Properties.Cc.css(0x70)).isEqualTo(7);
        assertThat(Properties.Cc.mps(0x780)).isEqualTo(0xF);
        assertThat(Properties.Cc.ams(0x3800)).isEqualTo(7);

        int csts = Properties.Csts.of(true, false, Properties.Csts.SHST_COMPLETE);
        assertThat(csts).isEqualTo(0x9);
        assertThat(Properties.Csts.rdy(csts)).isTrue();
        assertThat(Properties.Csts.cfs(csts)).isFalse();
        assertThat(Properties.Csts.shst(csts)).isEqualTo(2);
        assertThat(Properties.Csts.cfs(Properties.Csts.of(false, true, 0))).isTrue();
    }
}
