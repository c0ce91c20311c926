package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.keel.core.app.ConfigEntry;
import io.keel.core.rpc.Json;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The raid JSON field for field, in SPDK's order, against what SPDK v26.05 answered (spdk-rpc-samples: raid1 R1
 * with a superblock on M0+M1, raid0 R0 and concat C0 without, R1 degraded, rebuilding onto M5, rebuilt), written
 * from snapshots built here with the same values.
 */
class RaidJsonTest {
    private static final UUID R1 = UUID.fromString("85f5f319-5e81-42c9-93c2-0aa683a3dc83");
    private static final UUID R0 = UUID.fromString("1edc74cd-0e9d-423e-b433-ce7b1ae7cdb3");
    private static final UUID C0 = UUID.fromString("c32b377b-1494-43ed-ab85-0948de6a5aee");

    private static MemberInfo member(String name, String uuid, long dataOffset, long dataSize) {
        return new MemberInfo(name, UUID.fromString(uuid), true, dataOffset, dataSize);
    }

    private static final MemberInfo M0 = member("M0", "a6f576c9-d7b3-4071-b3e5-acb1bf68cdd0", 256, 7936);
    private static final MemberInfo M1 = member("M1", "87f44bd2-4959-4cfd-953a-d4920d78a5b2", 256, 7936);
    private static final MemberInfo M2 = member("M2", "94b75e88-d338-493d-a931-98eb58d80f8a", 0, 8192);
    private static final MemberInfo M3 = member("M3", "3fbbf94c-2bfe-4bfe-8675-51c8ba10d654", 0, 8192);
    private static final MemberInfo M4 = member("M4", "aae277b7-4505-494e-ac62-f04ea787b6bd", 0, 8192);
    private static final MemberInfo M5 = member("M5", "96d2d8d6-096a-4c7f-8fd1-e5dbc876061f", 256, 7936);

    private static RaidInfo r1(int working, ProcessInfo process, MemberInfo... members) {
        return new RaidInfo("R1", R1, 0, RaidState.ONLINE, RaidLevel.RAID1, true, working, working, 7936, process,
                List.of(members));
    }

    private static final RaidInfo R1_ONLINE = r1(2, null, M0, M1);
    private static final RaidInfo R0_ONLINE = new RaidInfo("R0", R0, 64, RaidState.ONLINE, RaidLevel.RAID0, false, 2,
            2, 16384, null, List.of(M2, M3));
    private static final RaidInfo C0_ONLINE = new RaidInfo("C0", C0, 64, RaidState.ONLINE, RaidLevel.CONCAT, false, 1,
            1, 8192, null, List.of(M4));

    @Test
    void raidGetBdevsAsSpdkAnswered() {
        assertSameJson(getBdevs(R1_ONLINE), SpdkReference.sample("raid_get_bdevs_online.json"));
        assertSameJson(getBdevs(R1_ONLINE, R0_ONLINE), SpdkReference.sample("raid_get_bdevs_raid0_raid1.json"));
        assertSameJson(getBdevs(R1_ONLINE, R0_ONLINE, C0_ONLINE), SpdkReference.sample("raid_get_bdevs_concat.json"));
    }

    @Test
    void aDegradedRaid1ShowsItsEmptySlot() {
        RaidInfo degraded = r1(1, null, M0, MemberInfo.empty(7936));
        assertSameJson(getBdevs(degraded), SpdkReference.sample("raid_get_bdevs_degraded.json"));
    }

    @Test
    void aRebuildShowsItsProgressUntilItEnds() {
        RaidInfo rebuilding = r1(2, new ProcessInfo(ProcessInfo.Type.REBUILD, "M5", 512), M0, M5);
        assertSameJson(getBdevs(rebuilding), SpdkReference.sample("raid_get_bdevs_rebuilding.json"));
        assertSameJson(getBdevs(r1(2, null, M0, M5)), SpdkReference.sample("raid_get_bdevs_rebuilt.json"));
        assertThat(new ProcessInfo(ProcessInfo.Type.REBUILD, "M5", 7935).percent(7936)).as("truncated").isEqualTo(99);
    }

    @Test
    void bdevGetBdevsDriverSpecific() {
        JsonNode spdk = SpdkReference.sample("bdev_get_bdevs_raid1.json").get(0);
        assertThat(spdk.get("num_blocks").asLong()).isEqualTo(RaidLayout.of(RaidLevel.RAID1, 0, 7936, 7936).blockCount());
        assertSameJson(RaidJson.driverSpecific(R1_ONLINE), spdk.get("driver_specific"));
    }

    @Test
    void categories() {
        assertThat(RaidCategory.ALL.includes(RaidState.OFFLINE)).isTrue();
        assertThat(RaidCategory.ONLINE.includes(RaidState.ONLINE)).isTrue();
        assertThat(RaidCategory.ONLINE.includes(RaidState.CONFIGURING)).isFalse();
        assertThat(RaidCategory.CONFIGURING.includes(RaidState.CONFIGURING)).isTrue();
        assertThat(RaidCategory.OFFLINE.includes(RaidState.ONLINE)).isFalse();
    }

    @Test
    void savedConfigWithoutSuperblock() {
        JsonNode spdk = SpdkReference.sample("framework_get_config_bdev_raid0_concat_nosb.json");
        RaidInfo r0 = new RaidInfo("R0", UUID.fromString("d9bf8adf-42ac-4d22-b8e4-6db9a975efbf"), 64,
                RaidState.ONLINE, RaidLevel.RAID0, false, 2, 2, 16384, null, List.of(M2, M3));
        RaidInfo c0 = new RaidInfo("C0", UUID.fromString("571eef12-4661-451a-85c4-5741a747c2f5"), 64,
                RaidState.ONLINE, RaidLevel.CONCAT, false, 1, 1, 8192, null, List.of(M4));
        assertSameJson(entries(List.of(RaidJson.createConfig(r0).orElseThrow(), RaidJson.createConfig(c0).orElseThrow())),
                entriesOf(spdk, "bdev_raid_create"));
    }

    @Test
    void savedConfigWithSuperblockHasOnlyTheOptions() {
        for (String sample : List.of("framework_get_config_bdev_raid.json", "raid_save_config.json")) {
            JsonNode spdk = SpdkReference.sample(sample);
            if (spdk.has("subsystems")) {
                spdk = bdevSubsystemConfig(spdk);
            }
            assertThat(entriesOf(spdk, "bdev_raid_create")).as("examine rebuilds R1 from its superblocks").isEmpty();
            assertSameJson(entries(List.of(RaidJson.setOptionsConfig(new RaidOptions(1024, 4)))),
                    entriesOf(spdk, "bdev_raid_set_options"));
        }
        assertThat(RaidJson.createConfig(R1_ONLINE)).isEmpty();
    }

    @Test
    void savedConfigNamesAnEmptySlotAsSpdkDoes() {
        RaidInfo r1 = new RaidInfo("R1", R1, 0, RaidState.ONLINE, RaidLevel.RAID1, false, 1, 1, 7936, null,
                List.of(M0, MemberInfo.empty(7936)));
        JsonNode params = RaidJson.createConfig(r1).orElseThrow().params();
        assertThat(Json.write(params)).isEqualTo("{\"name\":\"R1\",\"uuid\":\"" + R1
                + "\",\"raid_level\":\"raid1\",\"base_bdevs\":[\"M0\",\"removed_base_bdev_1\"]}");
    }

    // ---- helpers ----

    private static ArrayNode getBdevs(RaidInfo... raids) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (RaidInfo r : raids) {
            a.add(RaidJson.getBdevsEntry(r));
        }
        return a;
    }

    /** Config entries as SPDK writes them: {"method":..,"params":..}. */
    private static ArrayNode entries(List<ConfigEntry> list) {
        return Json.MAPPER.valueToTree(list);
    }

    private static ArrayNode entriesOf(JsonNode config, String method) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        config.forEach(e -> {
            if (e.get("method").asText().equals(method)) {
                out.add(e);
            }
        });
        return out;
    }

    private static JsonNode bdevSubsystemConfig(JsonNode saveConfig) {
        for (JsonNode s : saveConfig.get("subsystems")) {
            if (s.get("subsystem").asText().equals("bdev")) {
                return s.get("config");
            }
        }
        throw new AssertionError("no bdev subsystem");
    }

    /**
     * The same keys in the same order with the same values: compared as written, since the reference's numbers
     * parse as ints where the writer's are longs.
     */
    private static void assertSameJson(JsonNode actual, JsonNode expected) {
        assertThat(Json.pretty(actual)).isEqualTo(Json.pretty(expected));
    }
}
