package io.keel.bdev.raid;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import java.util.Locale;

/**
 * A raid level Keel implements, with SPDK's names, numbers ({@code enum spdk_bdev_raid_level}, as stored in the
 * superblock) and member rules ({@code struct raid_bdev_module}: {@code base_bdevs_min} and
 * {@code base_bdevs_constraint}). Keel leaves out SPDK's raid5f level (code 95): refused by name and by code.
 */
public enum RaidLevel {
    /** Striping: strip i of the raid is on member {@code i % n}. Any missing member takes the raid offline. */
    RAID0(0, "raid0", 1, false),
    /** Mirroring: every member holds every block; online while one member is left. */
    RAID1(1, "raid1", 2, true),
    /** Members appended one after the other. Any missing member takes the raid offline. */
    CONCAT(99, "concat", 1, false);

    private static final String SUPPORTED = "raid0, 0, raid1, 1, concat";

    private final int code;
    private final String spdkName;
    private final int minMembers;
    private final boolean toleratesMissingMember;

    RaidLevel(int code, String spdkName, int minMembers, boolean toleratesMissingMember) {
        this.code = code;
        this.spdkName = spdkName;
        this.minMembers = minMembers;
        this.toleratesMissingMember = toleratesMissingMember;
    }

    /** SPDK's number for the level, as in the superblock's {@code level} field. */
    public int code() {
        return code;
    }

    /** The name SPDK writes ({@code raid_bdev_level_to_str}). */
    @JsonValue
    public String spdkName() {
        return spdkName;
    }

    /** The fewest members the level can be created with. */
    public int minMembers() {
        return minMembers;
    }

    /** Whether the raid stays online with a member missing (raid1 does, degraded). */
    public boolean toleratesMissingMember() {
        return toleratesMissingMember;
    }

    /**
     * The fewest operational members a raid of {@code members} keeps working with (SPDK's
     * {@code min_base_bdevs_operational}): one for raid1, all of them otherwise.
     */
    public int minOperational(int members) {
        return toleratesMissingMember ? 1 : members;
    }

    /** Whether the level lays data out in strips and so takes a strip size (raid1 takes none). */
    public boolean striped() {
        return this != RAID1;
    }

    /**
     * The level a name stands for, as SPDK's {@code raid_bdev_str_to_level} reads it: the names and the aliases
     * "0" and "1", in any case. Null when the name is none of Keel's levels (raid5f and "5f" included).
     */
    public static RaidLevel fromName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "raid0", "0" -> RAID0;
            case "raid1", "1" -> RAID1;
            case "concat" -> CONCAT;
            default -> null;
        };
    }

    /** The level with SPDK's number {@code code}, or null when Keel has no such level. */
    public static RaidLevel fromCode(int code) {
        for (RaidLevel l : values()) {
            if (l.code == code) {
                return l;
            }
        }
        return null;
    }

    /**
     * For RPC parameters: an unknown name is refused (-32602) with the names that are accepted. Jackson passes a
     * mismatch of its own through unwrapped, so the RPC error names the parameter and says just this.
     */
    @JsonCreator
    static RaidLevel fromJson(String name) throws InvalidFormatException {
        RaidLevel l = fromName(name);
        if (l == null) {
            throw new InvalidFormatException(null, "unsupported raid level '" + name + "'; supported: " + SUPPORTED,
                    name, RaidLevel.class);
        }
        return l;
    }
}
