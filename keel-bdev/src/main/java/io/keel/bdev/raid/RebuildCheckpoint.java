package io.keel.bdev.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * How far a raid1 rebuild had come when it was last recorded in the superblock: a Keel extension kept in the
 * header's reserved bytes (docs/raid-design.md, "Resume"). SPDK ignores it and rebuilds the target from block 0; Keel
 * resumes from {@code copiedBlocks} when the target comes back with the raid.
 *
 * @param slot the slot the rebuild writes to; the superblock has it not yet CONFIGURED, with the target's UUID
 * @param target the target bdev's UUID
 * @param copiedBlocks the raid blocks below this are on the target
 */
public record RebuildCheckpoint(int slot, UUID target, long copiedBlocks) {
    public RebuildCheckpoint {
        Objects.requireNonNull(target, "target");
        if (slot < 0 || slot >= RaidLayout.MAX_MEMBERS || copiedBlocks < 0) {
            throw new IllegalArgumentException("slot " + slot + ", " + copiedBlocks + " blocks copied");
        }
    }
}
