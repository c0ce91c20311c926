package io.keel.bdev.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * One member slot of the superblock ({@code struct raid_bdev_sb_base_bdev}, 64 bytes on disk).
 *
 * @param uuid the member bdev's UUID (SPDK keeps it after the member is removed)
 * @param dataOffset the blocks before the member's data region (the superblock lives there)
 * @param dataSize the blocks of the member's data region the raid uses
 * @param slot the member's position in the raid, below the superblock's member count
 * @param state what the slot holds
 */
public record SuperblockMember(UUID uuid, long dataOffset, long dataSize, int slot, MemberState state) {
    public SuperblockMember {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(state, "state");
        if (slot < 0 || slot >= RaidLayout.MAX_MEMBERS) {
            throw new IllegalArgumentException("slot " + slot + " is not within 0.." + (RaidLayout.MAX_MEMBERS - 1));
        }
    }

    public SuperblockMember withState(MemberState newState) {
        return new SuperblockMember(uuid, dataOffset, dataSize, slot, newState);
    }
}
