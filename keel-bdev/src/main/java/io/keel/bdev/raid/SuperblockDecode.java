package io.keel.bdev.raid;

/**
 * What {@link SuperblockCodec#decode} made of a member's first bytes: a superblock, a request for more bytes, or a
 * refusal that says why. Decoding never throws on bad input.
 */
public sealed interface SuperblockDecode {
    /** A valid superblock. */
    record Decoded(RaidSuperblock superblock) implements SuperblockDecode {
    }

    /**
     * The bytes begin a superblock longer than what was given: read {@code neededBytes} (rounded up to whole
     * blocks) and decode again, as SPDK's {@code raid_bdev_read_sb_remainder} does.
     */
    record Incomplete(int neededBytes) implements SuperblockDecode {
    }

    /** Not a superblock Keel can use, with the reason and a message naming the offending value. */
    record Refused(Refusal reason, String message) implements SuperblockDecode {
    }

    /** Why a superblock was refused. */
    enum Refusal {
        /** Not "SPDKRAID": the member has no raid superblock. */
        BAD_SIGNATURE,
        /** The length field is below the header's size or above the largest superblock, or disagrees with the slots. */
        BAD_LENGTH,
        /** The CRC32C does not match the bytes: torn or corrupted. */
        BAD_CRC,
        /** A major version other than 1. */
        UNSUPPORTED_VERSION,
        /** A member count of 0. */
        BAD_MEMBER_COUNT,
        /** A slot number at or above the member count. */
        SLOT_OUT_OF_RANGE,
        /** Two entries for one slot. */
        DUPLICATE_SLOT,
        /** A name without its terminating NUL, or not UTF-8. */
        BAD_NAME,
        /** A level Keel does not implement (raid5f) or does not know. */
        UNSUPPORTED_LEVEL,
        /** A raid state or a member state SPDK does not define. */
        BAD_STATE,
        /** The bytes could not be read: the bdev is smaller than the superblock, or the read failed. */
        UNREADABLE
    }
}
