package io.keel.bdev.raid;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A snapshot of one raid bdev, what {@link RaidJson} writes for {@code bdev_raid_get_bdevs}, {@code bdev_get_bdevs}
 * and the saved configuration. Taken on the thread that owns the raid; immutable, so it may be written anywhere.
 *
 * @param name the raid bdev's name
 * @param uuid the raid bdev's UUID
 * @param stripSizeKb the strip size in KiB as configured (0 for raid1)
 * @param state the raid's state
 * @param level the raid level
 * @param superblock whether the raid keeps a superblock on its members
 * @param discovered members configured so far ({@code num_base_bdevs_discovered})
 * @param operational members the raid expects to work ({@code num_base_bdevs_operational})
 * @param blockCount the raid's size in blocks (the base of a process's percentage)
 * @param process the background process running, or null
 * @param members every slot, in slot order; their number is the raid's {@code num_base_bdevs}
 */
public record RaidInfo(String name, UUID uuid, int stripSizeKb, RaidState state, RaidLevel level, boolean superblock,
        int discovered, int operational, long blockCount, ProcessInfo process, List<MemberInfo> members) {
    public RaidInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(level, "level");
        members = List.copyOf(members);
    }
}
