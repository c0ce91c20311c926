package io.keel.bdev.raid;

import io.keel.bdev.raid.SuperblockDecode.Refusal;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Reads and writes a {@link RaidSuperblock} in SPDK's on-disk layout ({@code bdev_raid.h}, format 1.0), byte for
 * byte: little-endian integers, UUIDs in RFC 4122 byte order, a 256-byte header followed by 64-byte member
 * slots, and a CRC32C over the whole length computed with the CRC field zeroed, seeded with 0 and not inverted
 * ({@code spdk_crc32c_update(sb, length, 0)}). Flags and reserved bytes are written as zero and not read back,
 * except Keel's rebuild checkpoint ({@link RebuildCheckpoint}) in the header's reserved bytes: a signature, then the
 * blocks copied, the target's UUID and its slot. SPDK ignores those bytes (the CRC covers them, as it covers all).
 */
public final class SuperblockCodec {
    private static final byte[] SIGNATURE = "SPDKRAID".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION_MAJOR = 1;
    private static final int VERSION_MINOR = 0;

    // header fields (struct raid_bdev_superblock)
    private static final int SIGNATURE_AT = 0;
    private static final int VERSION_MAJOR_AT = 8;
    private static final int VERSION_MINOR_AT = 10;
    private static final int LENGTH_AT = 12;
    private static final int CRC_AT = 16;
    private static final int UUID_AT = 24;
    private static final int NAME_AT = 40;
    private static final int RAID_SIZE_AT = 104;
    private static final int BLOCK_SIZE_AT = 112;
    private static final int LEVEL_AT = 116;
    private static final int STRIP_SIZE_AT = 120;
    private static final int STATE_AT = 124;
    private static final int SEQ_NUMBER_AT = 128;
    private static final int MEMBER_COUNT_AT = 136;
    private static final int SLOTS_RECORDED_AT = 255;
    // Keel's rebuild checkpoint, in the header's reserved bytes (137..254)
    private static final byte[] CHECKPOINT_SIGNATURE = "KEELRBLD".getBytes(StandardCharsets.US_ASCII);
    private static final int CHECKPOINT_SIGNATURE_AT = 144;
    private static final int CHECKPOINT_COPIED_AT = 152;
    private static final int CHECKPOINT_TARGET_AT = 160;
    private static final int CHECKPOINT_SLOT_AT = 176;
    // member slot fields (struct raid_bdev_sb_base_bdev), from the slot's start
    private static final int MEMBER_UUID_AT = 0;
    private static final int MEMBER_DATA_OFFSET_AT = 16;
    private static final int MEMBER_DATA_SIZE_AT = 24;
    private static final int MEMBER_STATE_AT = 32;
    private static final int MEMBER_SLOT_AT = 40;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong UUID_HALF = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Fed first, these bytes take the JDK's CRC32C register from its preset ~0 to SPDK's seed 0. */
    private static final byte[] SEED_ZERO = {-1, -1, -1, -1};
    private static final byte[] ZERO_CRC = new byte[4];

    private SuperblockCodec() {
    }

    /**
     * Writes {@code sb} at the start of {@code out} ({@link RaidSuperblock#length} bytes, CRC included) and
     * returns that length. The caller writes whole blocks: the rest of the last block is its to zero. The
     * sequence number is written as given (take {@link RaidSuperblock#nextSequence} for each new write).
     *
     * @throws IllegalArgumentException if {@code out} is shorter than the superblock
     */
    public static int encode(RaidSuperblock sb, MemorySegment out) {
        int length = sb.length();
        if (out.byteSize() < length) {
            throw new IllegalArgumentException("a " + length + "-byte superblock does not fit in " + out.byteSize()
                    + " bytes");
        }
        out.asSlice(0, length).fill((byte) 0);
        MemorySegment.copy(SIGNATURE, 0, out, ValueLayout.JAVA_BYTE, SIGNATURE_AT, SIGNATURE.length);
        out.set(U16, VERSION_MAJOR_AT, (short) VERSION_MAJOR);
        out.set(U16, VERSION_MINOR_AT, (short) VERSION_MINOR);
        out.set(U32, LENGTH_AT, length);
        putUuid(out, UUID_AT, sb.raidUuid());
        byte[] name = sb.name().getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(name, 0, out, ValueLayout.JAVA_BYTE, NAME_AT, name.length);
        out.set(U64, RAID_SIZE_AT, sb.raidSize());
        out.set(U32, BLOCK_SIZE_AT, sb.blockSize());
        out.set(U32, LEVEL_AT, sb.level().code());
        out.set(U32, STRIP_SIZE_AT, sb.stripSize());
        out.set(U32, STATE_AT, sb.state().code());
        out.set(U64, SEQ_NUMBER_AT, sb.seqNumber());
        out.set(ValueLayout.JAVA_BYTE, MEMBER_COUNT_AT, (byte) sb.memberCount());
        out.set(ValueLayout.JAVA_BYTE, SLOTS_RECORDED_AT, (byte) sb.members().size());
        if (sb.rebuild() != null) {
            MemorySegment.copy(CHECKPOINT_SIGNATURE, 0, out, ValueLayout.JAVA_BYTE, CHECKPOINT_SIGNATURE_AT,
                    CHECKPOINT_SIGNATURE.length);
            out.set(U64, CHECKPOINT_COPIED_AT, sb.rebuild().copiedBlocks());
            putUuid(out, CHECKPOINT_TARGET_AT, sb.rebuild().target());
            out.set(ValueLayout.JAVA_BYTE, CHECKPOINT_SLOT_AT, (byte) sb.rebuild().slot());
        }
        for (int i = 0; i < sb.members().size(); i++) {
            SuperblockMember m = sb.members().get(i);
            long at = RaidSuperblock.HEADER_SIZE + (long) i * RaidSuperblock.MEMBER_SIZE;
            putUuid(out, at + MEMBER_UUID_AT, m.uuid());
            out.set(U64, at + MEMBER_DATA_OFFSET_AT, m.dataOffset());
            out.set(U64, at + MEMBER_DATA_SIZE_AT, m.dataSize());
            out.set(U32, at + MEMBER_STATE_AT, m.state().code());
            out.set(ValueLayout.JAVA_BYTE, at + MEMBER_SLOT_AT, (byte) m.slot());
        }
        out.set(U32, CRC_AT, crc(out, length));
        return length;
    }

    /**
     * Reads the superblock at the start of {@code in} (what was read from a member's first blocks), checking its
     * signature, length, CRC, version, member count, name, level, state, and each slot's number and state, in that
     * order, as SPDK's
     * {@code raid_bdev_parse_superblock} does and then some. Never throws on bad input.
     */
    public static SuperblockDecode decode(MemorySegment in) {
        if (in.byteSize() < RaidSuperblock.HEADER_SIZE) {
            return new SuperblockDecode.Incomplete(RaidSuperblock.HEADER_SIZE);
        }
        if (in.asSlice(SIGNATURE_AT, SIGNATURE.length).mismatch(MemorySegment.ofArray(SIGNATURE)) != -1) {
            return refused(Refusal.BAD_SIGNATURE, "no SPDKRAID signature");
        }
        long length = in.get(U32, LENGTH_AT) & 0xFFFF_FFFFL;
        if (length < RaidSuperblock.HEADER_SIZE || length > RaidSuperblock.MAX_LENGTH) {
            return refused(Refusal.BAD_LENGTH, "length " + length + " is not within " + RaidSuperblock.HEADER_SIZE
                    + ".." + RaidSuperblock.MAX_LENGTH);
        }
        if (length > in.byteSize()) {
            return new SuperblockDecode.Incomplete((int) length);
        }
        int crc = crc(in, (int) length);
        if (crc != in.get(U32, CRC_AT)) {
            return refused(Refusal.BAD_CRC, String.format("crc32c 0x%08x does not match the bytes' 0x%08x",
                    in.get(U32, CRC_AT), crc));
        }
        int major = in.get(U16, VERSION_MAJOR_AT) & 0xFFFF;
        if (major != VERSION_MAJOR) {
            return refused(Refusal.UNSUPPORTED_VERSION, "major version " + major + " (Keel reads " + VERSION_MAJOR
                    + ")");
        }
        int slotsRecorded = in.get(ValueLayout.JAVA_BYTE, SLOTS_RECORDED_AT) & 0xFF;
        if (length != RaidSuperblock.HEADER_SIZE + (long) slotsRecorded * RaidSuperblock.MEMBER_SIZE) {
            return refused(Refusal.BAD_LENGTH, "length " + length + " does not hold the " + slotsRecorded
                    + " member slots recorded");
        }
        int memberCount = in.get(ValueLayout.JAVA_BYTE, MEMBER_COUNT_AT) & 0xFF;
        if (memberCount == 0) {
            return refused(Refusal.BAD_MEMBER_COUNT, "a raid of 0 members");
        }
        String name = name(in);
        if (name == null) {
            return refused(Refusal.BAD_NAME, "the name is not NUL-terminated UTF-8 within "
                    + RaidSuperblock.NAME_SIZE + " bytes");
        }
        int levelCode = in.get(U32, LEVEL_AT);
        RaidLevel level = RaidLevel.fromCode(levelCode);
        if (level == null) {
            return refused(Refusal.UNSUPPORTED_LEVEL, "raid level " + Integer.toUnsignedString(levelCode)
                    + " (Keel has raid0 = 0, raid1 = 1, concat = 99)");
        }
        int stateCode = in.get(U32, STATE_AT);
        RaidState state = RaidState.fromCode(stateCode);
        if (state == null) {
            return refused(Refusal.BAD_STATE, "raid state " + Integer.toUnsignedString(stateCode));
        }
        List<SuperblockMember> members = new ArrayList<>(slotsRecorded);
        boolean[] seen = new boolean[memberCount];
        for (int i = 0; i < slotsRecorded; i++) {
            long at = RaidSuperblock.HEADER_SIZE + (long) i * RaidSuperblock.MEMBER_SIZE;
            int slot = in.get(ValueLayout.JAVA_BYTE, at + MEMBER_SLOT_AT) & 0xFF;
            if (slot >= memberCount) {
                return refused(Refusal.SLOT_OUT_OF_RANGE, "entry " + i + " is for slot " + slot + " of a raid of "
                        + memberCount + " members");
            }
            if (seen[slot]) {
                return refused(Refusal.DUPLICATE_SLOT, "slot " + slot + " is recorded twice");
            }
            seen[slot] = true;
            int memberStateCode = in.get(U32, at + MEMBER_STATE_AT);
            MemberState memberState = MemberState.fromCode(memberStateCode);
            if (memberState == null) {
                return refused(Refusal.BAD_STATE, "slot " + slot + " has state "
                        + Integer.toUnsignedString(memberStateCode));
            }
            members.add(new SuperblockMember(getUuid(in, at + MEMBER_UUID_AT), in.get(U64, at + MEMBER_DATA_OFFSET_AT),
                    in.get(U64, at + MEMBER_DATA_SIZE_AT), slot, memberState));
        }
        long raidSize = in.get(U64, RAID_SIZE_AT);
        return new SuperblockDecode.Decoded(new RaidSuperblock(getUuid(in, UUID_AT), name, raidSize,
                in.get(U32, BLOCK_SIZE_AT), level, in.get(U32, STRIP_SIZE_AT), state, in.get(U64, SEQ_NUMBER_AT),
                memberCount, members, checkpoint(in, raidSize, members)));
    }

    /**
     * Keel's rebuild checkpoint, or null: none written, or one that no longer fits the superblock around it (SPDK
     * rewrites a superblock it read with its reserved bytes as they were, so a slot it has since made CONFIGURED or
     * given another member may still carry one). A checkpoint ignored only means a rebuild from block 0.
     */
    private static RebuildCheckpoint checkpoint(MemorySegment in, long raidSize, List<SuperblockMember> members) {
        if (in.asSlice(CHECKPOINT_SIGNATURE_AT, CHECKPOINT_SIGNATURE.length)
                .mismatch(MemorySegment.ofArray(CHECKPOINT_SIGNATURE)) != -1) {
            return null;
        }
        long copied = in.get(U64, CHECKPOINT_COPIED_AT);
        UUID target = getUuid(in, CHECKPOINT_TARGET_AT);
        int slot = in.get(ValueLayout.JAVA_BYTE, CHECKPOINT_SLOT_AT) & 0xFF;
        boolean fits = copied >= 0 && copied <= raidSize && members.stream().anyMatch(m -> m.slot() == slot
                && m.state() != MemberState.CONFIGURED && m.uuid().equals(target));
        return fits ? new RebuildCheckpoint(slot, target, copied) : null;
    }

    /** SPDK's superblock CRC of the first {@code length} bytes, read with the CRC field as zero. */
    private static int crc(MemorySegment sb, int length) {
        CRC32C crc = new CRC32C();
        crc.update(SEED_ZERO);
        crc.update(sb.asSlice(0, CRC_AT).asByteBuffer());
        crc.update(ZERO_CRC);
        crc.update(sb.asSlice(CRC_AT + ZERO_CRC.length, length - CRC_AT - ZERO_CRC.length).asByteBuffer());
        return ~(int) crc.getValue(); // the JDK inverts its result; SPDK's is the register as it stands
    }

    /** The name field up to its NUL, or null when it has none or is not UTF-8. */
    private static String name(MemorySegment in) {
        int end = 0;
        while (end < RaidSuperblock.NAME_SIZE && in.get(ValueLayout.JAVA_BYTE, NAME_AT + end) != 0) {
            end++;
        }
        if (end == RaidSuperblock.NAME_SIZE) {
            return null;
        }
        ByteBuffer bytes = in.asSlice(NAME_AT, end).asByteBuffer();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static void putUuid(MemorySegment out, long at, UUID uuid) {
        out.set(UUID_HALF, at, uuid.getMostSignificantBits());
        out.set(UUID_HALF, at + 8, uuid.getLeastSignificantBits());
    }

    private static UUID getUuid(MemorySegment in, long at) {
        return new UUID(in.get(UUID_HALF, at), in.get(UUID_HALF, at + 8));
    }

    private static SuperblockDecode refused(Refusal reason, String message) {
        return new SuperblockDecode.Refused(reason, message);
    }
}
