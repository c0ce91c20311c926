package io.keel.bdev.raid;

/** A member slot's state in the superblock ({@code enum raid_bdev_sb_base_bdev_state}). */
public enum MemberState {
    /** No member in the slot (removed, or never added); a raid1 runs degraded. */
    MISSING(0),
    /** The member holds the raid's data. */
    CONFIGURED(1),
    /** The member was removed because I/O to it failed. */
    FAILED(2),
    /** Defined by SPDK's format, not used by SPDK v26.05. */
    SPARE(3);

    private final int code;

    MemberState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The state with SPDK's number {@code code}, or null. */
    public static MemberState fromCode(int code) {
        for (MemberState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
