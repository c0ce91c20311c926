package io.keel.bdev.raid;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.ConfigEntry;
import io.keel.core.rpc.Json;
import java.util.Optional;

/**
 * The JSON SPDK writes for a raid ({@code raid_bdev_write_info_json}, {@code rpc_bdev_raid_get_bdevs},
 * {@code raid_bdev_write_config_json}, {@code raid_bdev_opts_config_json}), field for field and in SPDK's order,
 * from a {@link RaidInfo} snapshot.
 */
public final class RaidJson {
    private RaidJson() {
    }

    /** One element of {@code bdev_raid_get_bdevs}' answer: the name, then what {@link #driverSpecific} shows. */
    public static ObjectNode getBdevsEntry(RaidInfo raid) {
        ObjectNode o = Json.object();
        o.put("name", raid.name());
        writeInfo(o, raid); // SPDK writes "uuid" here and again in the info; clients keep one, in this place
        return o;
    }

    /** The raid's {@code driver_specific} object in {@code bdev_get_bdevs}: {@code {"raid": {...}}}. */
    public static ObjectNode driverSpecific(RaidInfo raid) {
        ObjectNode o = Json.object();
        writeInfo(o.putObject("raid"), raid);
        return o;
    }

    /**
     * The {@code bdev_raid_create} that recreates the raid on load; none for a raid with a superblock, which is
     * put together again from its members' superblocks. An empty slot is written as
     * {@code removed_base_bdev_<slot>}, as SPDK writes it.
     */
    public static Optional<ConfigEntry> createConfig(RaidInfo raid) {
        if (raid.superblock()) {
            return Optional.empty();
        }
        ObjectNode p = Json.object();
        p.put("name", raid.name());
        p.put("uuid", raid.uuid().toString());
        if (raid.stripSizeKb() != 0) {
            p.put("strip_size_kb", raid.stripSizeKb());
        }
        p.put("raid_level", raid.level().spdkName());
        ArrayNode bases = p.putArray("base_bdevs");
        for (int slot = 0; slot < raid.members().size(); slot++) {
            String name = raid.members().get(slot).name();
            bases.add(name != null ? name : "removed_base_bdev_" + slot);
        }
        return Optional.of(new ConfigEntry("bdev_raid_create", p));
    }

    /** The module's {@code bdev_raid_set_options} entry, saved before any raid. */
    public static ConfigEntry setOptionsConfig(RaidOptions options) {
        return new ConfigEntry("bdev_raid_set_options", Json.tree(options));
    }

    private static void writeInfo(ObjectNode o, RaidInfo raid) {
        o.put("uuid", raid.uuid().toString());
        o.put("strip_size_kb", raid.stripSizeKb());
        o.put("state", raid.state().spdkName());
        o.put("raid_level", raid.level().spdkName());
        o.put("superblock", raid.superblock());
        o.put("num_base_bdevs", raid.members().size());
        o.put("num_base_bdevs_discovered", raid.discovered());
        o.put("num_base_bdevs_operational", raid.operational());
        ProcessInfo process = raid.process();
        if (process != null) {
            ObjectNode p = o.putObject("process");
            p.put("type", process.type().spdkName());
            p.put("target", process.target());
            ObjectNode progress = p.putObject("progress");
            progress.put("blocks", process.blocks());
            progress.put("percent", process.percent(raid.blockCount()));
        }
        ArrayNode list = o.putArray("base_bdevs_list");
        for (MemberInfo m : raid.members()) {
            ObjectNode b = list.addObject();
            b.put("name", m.name()); // null for an empty slot, as SPDK writes it
            b.put("uuid", m.uuid().toString());
            b.put("is_configured", m.configured());
            b.put("data_offset", m.dataOffset());
            b.put("data_size", m.dataSize());
        }
    }
}
