package io.keel.bdev.raid;

import java.util.Objects;

/**
 * A background process running on a raid, as {@code bdev_raid_get_bdevs} shows it.
 *
 * @param type what the process does
 * @param target the name of the member it writes to
 * @param blocks how far it has come: the raid blocks before its current window
 */
public record ProcessInfo(Type type, String target, long blocks) {
    public ProcessInfo {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(target, "target");
    }

    /** SPDK's {@code enum raid_process_type} (its "none" is the absence of a process). */
    public enum Type {
        /** Copies the raid's data onto a member added to a degraded raid1. */
        REBUILD("rebuild");

        private final String spdkName;

        Type(String spdkName) {
            this.spdkName = spdkName;
        }

            public String spdkName() {
            return spdkName;
        }
    }

    /** Progress in whole percent of a raid of {@code raidBlocks}, truncated as SPDK's conversion to uint32 does. */
    public int percent(long raidBlocks) {
        return (int) (blocks * 100.0 / raidBlocks);
    }
}
