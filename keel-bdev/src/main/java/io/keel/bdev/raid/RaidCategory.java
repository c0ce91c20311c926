package io.keel.bdev.raid;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;

/** Which raids {@code bdev_raid_get_bdevs} lists: all, or those in one {@link RaidState}. */
public enum RaidCategory {
    ALL("all", null),
    ONLINE("online", RaidState.ONLINE),
    CONFIGURING("configuring", RaidState.CONFIGURING),
    OFFLINE("offline", RaidState.OFFLINE);

    private final String spdkName;
    private final RaidState state;

    RaidCategory(String spdkName, RaidState state) {
        this.spdkName = spdkName;
        this.state = state;
    }

    @JsonValue
    public String spdkName() {
        return spdkName;
    }

    /** Whether a raid in {@code s} is listed. */
    public boolean includes(RaidState s) {
        return state == null || state == s;
    }

    /** SPDK's names, exactly (its decoder compares them case-sensitively); see {@link RaidLevel#fromJson}. */
    @JsonCreator
    static RaidCategory fromJson(String name) throws InvalidFormatException {
        for (RaidCategory c : values()) {
            if (c.spdkName.equals(name)) {
                return c;
            }
        }
        throw new InvalidFormatException(null, "unknown category '" + name
                + "'; one of all, online, configuring, offline", name, RaidCategory.class);
    }
}
