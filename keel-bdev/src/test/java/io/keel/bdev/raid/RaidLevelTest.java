package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The levels as SPDK names, numbers and constrains them. */
class RaidLevelTest {
    @Test
    void namesAndAliasesAsRaidBdevStrToLevelReadsThem() {
        assertThat(RaidLevel.fromName("raid0")).isEqualTo(RaidLevel.RAID0);
        assertThat(RaidLevel.fromName("0")).isEqualTo(RaidLevel.RAID0);
        assertThat(RaidLevel.fromName("raid1")).isEqualTo(RaidLevel.RAID1);
        assertThat(RaidLevel.fromName("1")).isEqualTo(RaidLevel.RAID1);
        assertThat(RaidLevel.fromName("concat")).isEqualTo(RaidLevel.CONCAT);
        assertThat(RaidLevel.fromName("RAID1")).as("strcasecmp").isEqualTo(RaidLevel.RAID1);
        assertThat(RaidLevel.fromName("Concat")).isEqualTo(RaidLevel.CONCAT);
        assertThat(RaidLevel.fromName("raid5f")).as("not implemented").isNull();
        assertThat(RaidLevel.fromName("5f")).isNull();
        assertThat(RaidLevel.fromName("raid10")).isNull();
        assertThat(RaidLevel.fromName("")).isNull();
    }

    @Test
    void spdkNamesAndNumbers() {
        assertThat(RaidLevel.RAID0.spdkName()).isEqualTo("raid0");
        assertThat(RaidLevel.RAID1.spdkName()).isEqualTo("raid1");
        assertThat(RaidLevel.CONCAT.spdkName()).isEqualTo("concat");
        assertThat(RaidLevel.RAID0.code()).isZero();
        assertThat(RaidLevel.RAID1.code()).isEqualTo(1);
        assertThat(RaidLevel.CONCAT.code()).isEqualTo(99);
        assertThat(RaidLevel.fromCode(99)).isEqualTo(RaidLevel.CONCAT);
        assertThat(RaidLevel.fromCode(95)).as("raid5f").isNull();
    }

    @Test
    void memberRulesOfEachLevel() {
        assertThat(RaidLevel.RAID0.minMembers()).isEqualTo(1);
        assertThat(RaidLevel.CONCAT.minMembers()).isEqualTo(1);
        assertThat(RaidLevel.RAID1.minMembers()).isEqualTo(2);

        assertThat(RaidLevel.RAID1.toleratesMissingMember()).isTrue();
        assertThat(RaidLevel.RAID0.toleratesMissingMember()).isFalse();
        assertThat(RaidLevel.CONCAT.toleratesMissingMember()).isFalse();

        assertThat(RaidLevel.RAID1.minOperational(3)).as("online while one mirror is left").isEqualTo(1);
        assertThat(RaidLevel.RAID0.minOperational(3)).as("every member needed").isEqualTo(3);
        assertThat(RaidLevel.CONCAT.minOperational(2)).isEqualTo(2);

        assertThat(RaidLevel.RAID1.striped()).isFalse();
        assertThat(RaidLevel.RAID0.striped()).isTrue();
        assertThat(RaidLevel.CONCAT.striped()).isTrue();
    }
}
