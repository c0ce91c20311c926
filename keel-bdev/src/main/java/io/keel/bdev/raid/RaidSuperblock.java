package io.keel.bdev.raid;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The record a raid with a superblock keeps at the start of every member (SPDK's
 * {@code struct raid_bdev_superblock}, format version 1.0), from which the raid is put together again when its
 * members appear ({@code raid_bdev_examine}). {@link SuperblockCodec} reads and writes it byte for byte as SPDK
 * does, so a raid moves between SPDK and Keel.
 *
 * <p>A member's data starts {@link #dataOffsetBlocks} blocks in, after the superblock's reserved megabyte. Every
 * write increments {@code seqNumber}; when members disagree, the highest sequence number wins.
 *
 * @param raidUuid the raid bdev's UUID
 * @param name the raid bdev's name, at most {@link #NAME_SIZE} - 1 bytes of UTF-8
 * @param raidSize the raid bdev's size in blocks
 * @param blockSize the raid's block size in bytes (its data block size), the same on every member
 * @param level the raid level
 * @param stripSize the strip size in blocks (0 for raid1)
 * @param state the raid's state (SPDK v26.05 always writes {@link RaidState#ONLINE}'s 0 here)
 * @param seqNumber incremented on every write of the superblock
 * @param memberCount the raid's number of members (slots)
 * @param members the member slots recorded, at most {@link RaidLayout#MAX_MEMBERS}
 * @param rebuild where a rebuild had come to (Keel's extension in the reserved bytes), or null
 */
public record RaidSuperblock(UUID raidUuid, String name, long raidSize, int blockSize, RaidLevel level,
        int stripSize, RaidState state, long seqNumber, int memberCount, List<SuperblockMember> members,
        RebuildCheckpoint rebuild) {
    /** The fixed part's size in bytes; member slots follow it. */
    public static final int HEADER_SIZE = 256;
    /** One member slot's size in bytes. */
    public static final int MEMBER_SIZE = 64;
    /** The largest superblock: the header and 255 member slots ({@code RAID_BDEV_SB_MAX_LENGTH}). */
    public static final int MAX_LENGTH = HEADER_SIZE + RaidLayout.MAX_MEMBERS * MEMBER_SIZE;
    /** The name field's size, its terminating NUL included. */
    public static final int NAME_SIZE = 64;
    /** The bytes every member reserves before its data when the raid has a superblock (1 MiB). */
    public static final int MIN_DATA_OFFSET_BYTES = 1024 * 1024;

    public RaidSuperblock {
        Objects.requireNonNull(raidUuid, "raidUuid");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(state, "state");
        members = List.copyOf(members);
        if (name.getBytes(StandardCharsets.UTF_8).length >= NAME_SIZE) {
            throw new IllegalArgumentException("raid name '" + name + "' is longer than " + (NAME_SIZE - 1) + " bytes");
        }
        if (memberCount < 1 || memberCount > RaidLayout.MAX_MEMBERS || members.size() > RaidLayout.MAX_MEMBERS) {
            throw new IllegalArgumentException(memberCount + " members and " + members.size()
                    + " slots recorded: both must be within 1.." + RaidLayout.MAX_MEMBERS);
        }
        for (SuperblockMember m : members) {
            if (m.slot() >= memberCount) {
                throw new IllegalArgumentException("slot " + m.slot() + " of a raid of " + memberCount + " members");
            }
        }
        if (rebuild != null && rebuild.slot() >= memberCount) {
            throw new IllegalArgumentException("a rebuild of slot " + rebuild.slot() + " of a raid of " + memberCount
                    + " members");
        }
    }

    /** A superblock without a rebuild checkpoint, as SPDK writes them. */
    public RaidSuperblock(UUID raidUuid, String name, long raidSize, int blockSize, RaidLevel level, int stripSize,
            RaidState state, long seqNumber, int memberCount, List<SuperblockMember> members) {
        this(raidUuid, name, raidSize, blockSize, level, stripSize, state, seqNumber, memberCount, members, null);
    }

    /** The superblock's length in bytes: the header and the member slots. */
    public int length() {
        return HEADER_SIZE + MEMBER_SIZE * members.size();
    }

    /** The same superblock with the next sequence number, as every write makes it. */
    public RaidSuperblock nextSequence() {
        return new RaidSuperblock(raidUuid, name, raidSize, blockSize, level, stripSize, state, seqNumber + 1,
                memberCount, members, rebuild);
    }

    /**
     * The same superblock with the entry of {@code member.slot()} replaced by {@code member}.
     *
     * @throws IllegalArgumentException if no entry has that slot
     */
    public RaidSuperblock withMember(SuperblockMember member) {
        if (members.stream().noneMatch(m -> m.slot() == member.slot())) {
            throw new IllegalArgumentException("no entry for slot " + member.slot());
        }
        List<SuperblockMember> updated = members.stream()
                .map(m -> m.slot() == member.slot() ? member : m)
                .toList();
        return new RaidSuperblock(raidUuid, name, raidSize, blockSize, level, stripSize, state, seqNumber,
                memberCount, updated, rebuild);
    }

    /** The same superblock with {@code checkpoint} (null: none) as its rebuild's progress. */
    public RaidSuperblock withRebuild(RebuildCheckpoint checkpoint) {
        return new RaidSuperblock(raidUuid, name, raidSize, blockSize, level, stripSize, state, seqNumber,
                memberCount, members, checkpoint);
    }

    /**
     * Where data starts on a member with blocks of {@code blockSize} bytes: after {@link #MIN_DATA_OFFSET_BYTES},
     * rounded up to the member's optimal I/O boundary when it has one ({@code raid_bdev_configure_base_bdev}).
     */
    public static long dataOffsetBlocks(int blockSize, int optimalIoBoundaryBlocks) {
        long blocks = MIN_DATA_OFFSET_BYTES / blockSize;
        if (optimalIoBoundaryBlocks == 0) {
            return blocks;
        }
        return (blocks + optimalIoBoundaryBlocks - 1) / optimalIoBoundaryBlocks * optimalIoBoundaryBlocks;
    }
}
