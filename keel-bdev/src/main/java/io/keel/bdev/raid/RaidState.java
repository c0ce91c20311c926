package io.keel.bdev.raid;

/** A raid bdev's state, as SPDK's {@code enum spdk_bdev_raid_state} numbers and names it. */
public enum RaidState {
    /** Registered with the bdev layer and serving I/O (degraded raid1 included). */
    ONLINE(0, "online"),
    /** Waiting for members: not registered yet. */
    CONFIGURING(1, "configuring"),
    /** Too few members left to serve I/O: unregistered. */
    OFFLINE(2, "offline");

    private final int code;
    private final String spdkName;

    RaidState(int code, String spdkName) {
        this.code = code;
        this.spdkName = spdkName;
    }

    /** SPDK's number, as in the superblock's {@code state} field. */
    public int code() {
        return code;
    }

    public String spdkName() {
        return spdkName;
    }

    /** The state with SPDK's number {@code code}, or null. */
    public static RaidState fromCode(int code) {
        for (RaidState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
