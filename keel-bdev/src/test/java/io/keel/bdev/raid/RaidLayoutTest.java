package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The raid's size and its members' data sizes per level, as SPDK computes them in each level's start callback,
 * checked by hand and against what SPDK v26.05 reported (spdk-rpc-samples, malloc members of 8192 blocks of
 * 4 KiB; the superblock reserves 256 of them).
 */
class RaidLayoutTest {
    @Test
    void raid1IsAsLargeAsItsSmallestMember() {
        // bdev_get_bdevs_raid1.json: R1 on M0 and M1 with a superblock has 7936 blocks, data_size 7936 each
        RaidLayout r1 = RaidLayout.of(RaidLevel.RAID1, 0, 8192 - 256, 8192 - 256);
        assertThat(r1).isInstanceOf(Raid1Layout.class);
        assertThat(r1.blockCount()).isEqualTo(7936);
        assertThat(r1.memberDataSize(0)).isEqualTo(7936);
        assertThat(r1.memberDataSize(1)).isEqualTo(7936);

        RaidLayout uneven = RaidLayout.of(RaidLevel.RAID1, 0, 1000, 999, 5000);
        assertThat(uneven.blockCount()).isEqualTo(999);
        assertThat(uneven.memberDataSize(2)).as("the larger member uses only what the smallest has").isEqualTo(999);
    }

    @Test
    void raid0HasNTimesTheSmallestMemberInWholeStrips() {
        // raid_get_bdevs_raid0_raid1.json: R0, strip 64 KiB (16 blocks), on M2 and M3 without superblock
        int strip = RaidLayout.stripBlocks(64, 4096);
        assertThat(strip).isEqualTo(16);
        RaidLayout r0 = RaidLayout.of(RaidLevel.RAID0, strip, 8192, 8192);
        assertThat(r0.blockCount()).isEqualTo(16384);
        assertThat(r0.memberDataSize(0)).isEqualTo(8192);

        RaidLayout uneven = RaidLayout.of(RaidLevel.RAID0, 16, 1000, 2000, 1500);
        assertThat(uneven.memberDataSize(1)).as("1000 rounded down to 62 strips").isEqualTo(992);
        assertThat(uneven.blockCount()).isEqualTo(3 * 992);
    }

    @Test
    void concatAppendsEachMemberRoundedToWholeStrips() {
        // raid_get_bdevs_concat.json: C0, strip 64 KiB, on M4 alone
        RaidLayout c0 = RaidLayout.of(RaidLevel.CONCAT, 16, 8192);
        assertThat(c0.blockCount()).isEqualTo(8192);
        assertThat(c0.memberDataSize(0)).isEqualTo(8192);

        RaidLayout uneven = RaidLayout.of(RaidLevel.CONCAT, 16, 1000, 40, 15, 2048);
        assertThat(uneven.memberDataSize(0)).isEqualTo(992);
        assertThat(uneven.memberDataSize(1)).isEqualTo(32);
        assertThat(uneven.memberDataSize(2)).as("smaller than a strip: contributes nothing").isZero();
        assertThat(uneven.blockCount()).isEqualTo(992 + 32 + 0 + 2048);
    }

    @Test
    void stripSizeInBlocks() {
        assertThat(RaidLayout.stripBlocks(64, 512)).isEqualTo(128);
        assertThat(RaidLayout.stripBlocks(4, 4096)).isEqualTo(1);
        assertThat(RaidLayout.stripBlocks(2, 4096)).as("smaller than a block: SPDK refuses the raid").isZero();
        assertThat(RaidLayout.stripBlocks(0, 512)).as("raid1").isZero();
    }

    @Test
    void refusesWhatNoRaidCanBe() {
        assertThatThrownBy(() -> RaidLayout.of(RaidLevel.RAID0, 16)).hasMessageContaining("1 to 255 members");
        assertThatThrownBy(() -> RaidLayout.of(RaidLevel.RAID0, 16, new long[256])).hasMessageContaining("not 256");
        assertThatThrownBy(() -> RaidLayout.of(RaidLevel.RAID0, 24, 100, 100)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> RaidLayout.of(RaidLevel.CONCAT, 0, 100)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> RaidLayout.of(RaidLevel.RAID1, 0, 100, -1)).hasMessageContaining("negative");
        assertThat(RaidLayout.of(RaidLevel.RAID1, 0, 100, 100).blockCount()).as("raid1 ignores the strip").isEqualTo(100);
    }

    @Test
    void theDataOffsetASuperblockReserves() {
        assertThat(RaidSuperblock.dataOffsetBlocks(4096, 0)).as("the samples' 256").isEqualTo(256);
        assertThat(RaidSuperblock.dataOffsetBlocks(512, 0)).isEqualTo(2048);
        assertThat(RaidSuperblock.dataOffsetBlocks(4096, 100)).as("rounded up to the optimal boundary").isEqualTo(300);
        assertThat(RaidSuperblock.dataOffsetBlocks(4096, 64)).isEqualTo(256);
    }
}
