package io.keel.bdev.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * One member slot of a raid as {@code bdev_raid_get_bdevs} shows it.
 *
 * @param name the member bdev's name; null for an empty slot
 * @param uuid the member's UUID; {@link #NO_UUID} for an empty slot
 * @param configured whether the member is part of the raid (opened, claimed, counted as discovered)
 * @param dataOffset the blocks before the member's data region
 * @param dataSize the blocks of the member's data region the raid uses
 */
public record MemberInfo(String name, UUID uuid, boolean configured, long dataOffset, long dataSize) {
    /** The all-zero UUID SPDK shows for an empty slot. */
    public static final UUID NO_UUID = new UUID(0, 0);

    public MemberInfo {
        Objects.requireNonNull(uuid, "uuid (NO_UUID for none)");
    }

    /**
     * A slot whose member was removed: SPDK forgets its name, UUID and data offset but keeps the data size, the
     * size a replacement must offer.
     */
    public static MemberInfo empty(long dataSize) {
        return new MemberInfo(null, NO_UUID, false, 0, dataSize);
    }
}
