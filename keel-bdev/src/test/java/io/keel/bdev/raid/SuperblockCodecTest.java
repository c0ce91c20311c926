package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.bdev.raid.SuperblockDecode.Decoded;
import io.keel.bdev.raid.SuperblockDecode.Incomplete;
import io.keel.bdev.raid.SuperblockDecode.Refusal;
import io.keel.bdev.raid.SuperblockDecode.Refused;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The superblock codec: a round trip, superblocks SPDK v26.05 wrote, and every kind of damage refused with its
 * reason, never with an exception.
 *
 * <p>The two SPDK samples in src/test/resources/raid are the first 512 bytes of members written by SPDK v26.05's
 * {@code spdk_tgt} (aio bdevs on 8 MiB files): {@code spdk-sb-raid0-4k.bin} from member A0 of
 * {@code bdev_raid_create -n RZ -z 64 -r raid0 -b "A0 A1" -s --uuid 11111111-2222-4333-8444-555555555555} (4 KiB
 * blocks), and {@code spdk-sb-raid1-degraded-512.bin} from member B0 of
 * {@code bdev_raid_create -n RM -r 1 -b "B0 B1" -s --uuid 66666666-7777-4888-9999-aaaaaaaaaaaa} (512-byte blocks)
 * after {@code bdev_raid_remove_base_bdev B1}.
 */
class SuperblockCodecTest {
    private static final UUID RAID = UUID.fromString("85f5f319-5e81-42c9-93c2-0aa683a3dc83");
    private static final UUID M0 = UUID.fromString("a6f576c9-d7b3-4071-b3e5-acb1bf68cdd0");
    private static final UUID M1 = UUID.fromString("87f44bd2-4959-4cfd-953a-d4920d78a5b2");

    private static RaidSuperblock raid1() {
        return new RaidSuperblock(RAID, "R1", 7936, 4096, RaidLevel.RAID1, 0, RaidState.ONLINE, 3, 2, List.of(
                new SuperblockMember(M0, 256, 7936, 0, MemberState.CONFIGURED),
                new SuperblockMember(M1, 256, 7936, 1, MemberState.MISSING)));
    }

    @Test
    void roundTrip() {
        RaidSuperblock sb = raid1();
        assertThat(sb.length()).isEqualTo(384);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(4096, 4096);
            assertThat(SuperblockCodec.encode(sb, block)).isEqualTo(384);
            assertThat(SuperblockCodec.decode(block)).isEqualTo(new Decoded(sb));
            assertThat(SuperblockCodec.decode(block.asSlice(0, 384))).as("exactly its length").isEqualTo(new Decoded(sb));
        }
    }

    @Test
    void roundTripOfTheLargestSuperblock() {
        List<SuperblockMember> members = new ArrayList<>();
        for (int slot = 0; slot < 255; slot++) {
            members.add(new SuperblockMember(UUID.randomUUID(), 2048, (1L << 40) + slot, slot,
                    MemberState.values()[slot % 4]));
        }
        String name = "ä".repeat(31) + "x"; // 63 bytes of UTF-8
        RaidSuperblock sb = new RaidSuperblock(UUID.randomUUID(), name, Long.MAX_VALUE, 512, RaidLevel.CONCAT, 128,
                RaidState.CONFIGURING, -1L, 255, members);
        assertThat(sb.length()).isEqualTo(RaidSuperblock.MAX_LENGTH).isEqualTo(16576);
        byte[] bytes = new byte[16896];
        SuperblockCodec.encode(sb, MemorySegment.ofArray(bytes));
        assertThat(SuperblockCodec.decode(MemorySegment.ofArray(bytes))).isEqualTo(new Decoded(sb));
    }

    @Test
    void readsSpdksRaid0SuperblockAndWritesTheSameBytes() throws IOException {
        byte[] spdk = sample("spdk-sb-raid0-4k.bin");
        RaidSuperblock sb = decoded(spdk);
        assertThat(sb).isEqualTo(new RaidSuperblock(UUID.fromString("11111111-2222-4333-8444-555555555555"), "RZ",
                3584, 4096, RaidLevel.RAID0, 16, RaidState.ONLINE, 1, 2, List.of(
                        new SuperblockMember(UUID.fromString("6b1d8d5c-569c-460c-9d0e-702ec3d6d23a"), 256, 1792, 0,
                                MemberState.CONFIGURED),
                        new SuperblockMember(UUID.fromString("8d4eef72-eb2e-4a85-8d4c-6c5fb4323389"), 256, 1792, 1,
                                MemberState.CONFIGURED))));
        assertThat(encoded(sb, spdk.length)).as("byte for byte, CRC included").isEqualTo(spdk);
    }

    @Test
    void readsSpdksDegradedRaid1SuperblockAndWritesTheSameBytes() throws IOException {
        byte[] spdk = sample("spdk-sb-raid1-degraded-512.bin");
        RaidSuperblock sb = decoded(spdk);
        assertThat(sb.name()).isEqualTo("RM");
        assertThat(sb.raidUuid()).isEqualTo(UUID.fromString("66666666-7777-4888-9999-aaaaaaaaaaaa"));
        assertThat(sb.level()).isEqualTo(RaidLevel.RAID1);
        assertThat(sb.blockSize()).isEqualTo(512);
        assertThat(sb.raidSize()).isEqualTo(14336);
        assertThat(sb.stripSize()).isZero();
        assertThat(sb.seqNumber()).as("written at create, then at the removal").isEqualTo(2);
        assertThat(sb.members()).containsExactly(
                new SuperblockMember(UUID.fromString("9d57b876-9ab9-47e0-b85d-b8add5c6314c"), 2048, 14336, 0,
                        MemberState.CONFIGURED),
                new SuperblockMember(UUID.fromString("72d22359-c572-4be1-9f20-6eb289f1674e"), 2048, 14336, 1,
                        MemberState.MISSING)); // SPDK keeps the removed member's uuid and offset in its slot
        assertThat(encoded(sb, spdk.length)).isEqualTo(spdk);
    }

    @Test
    void theNextWriteOfASuperblock() {
        RaidSuperblock sb = raid1();
        RaidSuperblock failed = sb.withMember(sb.members().get(0).withState(MemberState.FAILED)).nextSequence();
        assertThat(failed.seqNumber()).isEqualTo(4);
        assertThat(failed.members().get(0).state()).isEqualTo(MemberState.FAILED);
        assertThat(failed.members().get(1)).isEqualTo(sb.members().get(1));
        assertThatThrownBy(() -> sb.withMember(new SuperblockMember(M0, 0, 0, 5, MemberState.CONFIGURED)))
                .hasMessageContaining("no entry for slot 5");
    }

    // ---- damage ----

    @Test
    void aShortReadAsksForTheRest() {
        byte[] b = encoded(raid1(), 512);
        assertThat(SuperblockCodec.decode(MemorySegment.ofArray(b).asSlice(0, 300))).isEqualTo(new Incomplete(384));
        assertThat(SuperblockCodec.decode(MemorySegment.ofArray(b).asSlice(0, 100))).isEqualTo(new Incomplete(256));
    }

    @Test
    void badSignature() {
        byte[] b = encoded(raid1(), 512);
        b[3] = 'X';
        assertRefused(b, Refusal.BAD_SIGNATURE, "SPDKRAID");
        assertRefused(new byte[4096], Refusal.BAD_SIGNATURE, "SPDKRAID");
    }

    @Test
    void badLength() {
        byte[] b = encoded(raid1(), 512);
        putU32(b, 12, 100);
        assertRefused(b, Refusal.BAD_LENGTH, "length 100 is not within 256..16576");
        putU32(b, 12, 16577);
        assertRefused(b, Refusal.BAD_LENGTH, "16577");
        putU32(b, 12, -1);
        assertRefused(b, Refusal.BAD_LENGTH, "4294967295");

        byte[] c = encoded(raid1(), 512);
        putU32(c, 12, 320); // consistent CRC, but two slots need 384 bytes
        reseal(c);
        assertRefused(c, Refusal.BAD_LENGTH, "length 320 does not hold the 2 member slots");
    }

    @Test
    void badCrc() {
        byte[] b = encoded(raid1(), 512);
        b[41] ^= 1; // a bit of the name
        assertRefused(b, Refusal.BAD_CRC, "does not match");
        byte[] c = encoded(raid1(), 512);
        c[16] ^= (byte) 0x80; // the CRC itself
        assertRefused(c, Refusal.BAD_CRC, "crc32c");
        byte[] d = encoded(raid1(), 512);
        d[383] = 1; // the last reserved byte of the last slot is covered too
        assertRefused(d, Refusal.BAD_CRC, "does not match");
    }

    @Test
    void versions() {
        byte[] b = encoded(raid1(), 512);
        putU16(b, 8, 2);
        reseal(b);
        assertRefused(b, Refusal.UNSUPPORTED_VERSION, "major version 2");
        byte[] c = encoded(raid1(), 512);
        putU16(c, 10, 5);
        reseal(c);
        assertThat(decoded(c)).as("a newer minor version is read, as SPDK reads it").isEqualTo(raid1());
    }

    @Test
    void badMemberCount() {
        byte[] b = encoded(raid1(), 512);
        b[136] = 0;
        reseal(b);
        assertRefused(b, Refusal.BAD_MEMBER_COUNT, "0 members");
    }

    @Test
    void slotOutOfRangeOrTwice() {
        byte[] b = encoded(raid1(), 512);
        b[256 + 64 + 40] = 2; // the second entry claims slot 2 of a 2-member raid
        reseal(b);
        assertRefused(b, Refusal.SLOT_OUT_OF_RANGE, "entry 1 is for slot 2 of a raid of 2 members");
        byte[] c = encoded(raid1(), 512);
        c[256 + 64 + 40] = 0;
        reseal(c);
        assertRefused(c, Refusal.DUPLICATE_SLOT, "slot 0 is recorded twice");
    }

    @Test
    void badName() {
        byte[] b = encoded(raid1(), 512);
        Arrays.fill(b, 40, 104, (byte) 'x');
        reseal(b);
        assertRefused(b, Refusal.BAD_NAME, "NUL-terminated");
        byte[] c = encoded(raid1(), 512);
        c[40] = (byte) 0xFF;
        reseal(c);
        assertRefused(c, Refusal.BAD_NAME, "UTF-8");
    }

    @Test
    void levelsAndStatesKeelDoesNotKnow() {
        byte[] b = encoded(raid1(), 512);
        putU32(b, 116, 95);
        reseal(b);
        assertRefused(b, Refusal.UNSUPPORTED_LEVEL, "raid level 95");
        byte[] c = encoded(raid1(), 512);
        putU32(c, 124, 7);
        reseal(c);
        assertRefused(c, Refusal.BAD_STATE, "raid state 7");
        byte[] d = encoded(raid1(), 512);
        putU32(d, 256 + 64 + 32, 9);
        reseal(d);
        assertRefused(d, Refusal.BAD_STATE, "slot 1 has state 9");
    }

    @Test
    void anyBytesGiveAnAnswerNeverAnException() {
        Random rnd = new Random(1);
        byte[] valid = encoded(raid1(), 512);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = round % 2 == 0 ? valid.clone() : new byte[rnd.nextInt(600)];
            if (round % 2 == 0) {
                for (int flips = 1 + rnd.nextInt(4); flips > 0; flips--) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt();
                }
            } else {
                rnd.nextBytes(b);
                if (b.length >= 8) {
                    System.arraycopy(valid, 0, b, 0, 8);
                }
            }
            if (rnd.nextBoolean() && b.length >= 256) {
                reseal(b); // past the CRC, into the structural checks
            }
            assertThat(SuperblockCodec.decode(MemorySegment.ofArray(b))).isNotNull();
        }
    }

    @Test
    void writingRefusesASegmentTooSmall() {
        assertThatThrownBy(() -> SuperblockCodec.encode(raid1(), MemorySegment.ofArray(new byte[383])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("384-byte superblock");
    }

    @Test
    void theRecordKeepsToWhatTheFormatHolds() {
        assertThatThrownBy(() -> new RaidSuperblock(RAID, "n".repeat(64), 1, 512, RaidLevel.RAID1, 0,
                RaidState.ONLINE, 0, 2, List.of())).hasMessageContaining("longer than 63 bytes");
        assertThatThrownBy(() -> new RaidSuperblock(RAID, "R", 1, 512, RaidLevel.RAID1, 0, RaidState.ONLINE, 0, 1,
                List.of(new SuperblockMember(M0, 0, 1, 1, MemberState.CONFIGURED)))).hasMessageContaining("slot 1");
        assertThatThrownBy(() -> new RaidSuperblock(RAID, "R", 1, 512, RaidLevel.RAID1, 0, RaidState.ONLINE, 0, 0,
                List.of())).hasMessageContaining("0 members");
    }

    @Test
    void aRebuildCheckpointGoesInTheReservedBytesOfSpdksLayout() throws IOException {
        byte[] spdk = sample("spdk-sb-raid1-degraded-512.bin");
        RaidSuperblock sb = decoded(spdk);
        SuperblockMember target = sb.members().get(1);
        assertThat(sb.rebuild()).isNull();
        RebuildCheckpoint cp = new RebuildCheckpoint(1, target.uuid(), 5000);
        byte[] keel = encoded(sb.withRebuild(cp), spdk.length);
        for (int at = 0; at < spdk.length; at++) {
            boolean reserved = at >= 137 && at < 255; // struct raid_bdev_superblock's reserved[118]
            boolean crc = at >= 16 && at < 20;
            if (!reserved && !crc) {
                assertThat(keel[at]).as("byte %d, a field SPDK reads", at).isEqualTo(spdk[at]);
            }
        }
        byte[] crcZeroed = keel.clone();
        putU32(crcZeroed, 16, 0);
        assertThat(ByteBuffer.wrap(keel).order(ByteOrder.LITTLE_ENDIAN).getInt(16))
                .as("the CRC SPDK computes over the reserved bytes too").isEqualTo(spdkCrc32c(crcZeroed, sb.length()));
        assertThat(target.state()).as("not a full member for SPDK, which re-adds and rebuilds it")
                .isEqualTo(MemberState.MISSING);
        assertThat(decoded(keel)).isEqualTo(sb.withRebuild(cp));
        assertThat(decoded(keel).withRebuild(null)).isEqualTo(sb);
    }

    @Test
    void aCheckpointThatNoLongerFitsItsSuperblockIsIgnored() {
        RaidSuperblock sb = raid1(); // slot 0 CONFIGURED M0, slot 1 MISSING M1, 7936 blocks
        assertThat(decoded(encoded(sb.withRebuild(new RebuildCheckpoint(1, M1, 7936)), 512)).rebuild())
                .isEqualTo(new RebuildCheckpoint(1, M1, 7936));
        assertThat(decoded(encoded(sb.withRebuild(new RebuildCheckpoint(0, M0, 100)), 512)).rebuild())
                .as("a CONFIGURED slot").isNull();
        assertThat(decoded(encoded(sb.withRebuild(new RebuildCheckpoint(1, M0, 100)), 512)).rebuild())
                .as("another member in the slot").isNull();
        assertThat(decoded(encoded(sb.withRebuild(new RebuildCheckpoint(1, M1, 7937)), 512)).rebuild())
                .as("past the raid's end").isNull();
        RaidSuperblock after = sb.withRebuild(new RebuildCheckpoint(1, M1, 100)).nextSequence()
                .withMember(sb.members().get(0).withState(MemberState.FAILED));
        assertThat(after.rebuild()).as("kept by the next write").isEqualTo(new RebuildCheckpoint(1, M1, 100));
    }

    // ---- helpers ----

    private static byte[] sample(String name) throws IOException {
        try (InputStream in = SuperblockCodecTest.class.getResourceAsStream("/raid/" + name)) {
            return in.readAllBytes();
        }
    }

    private static RaidSuperblock decoded(byte[] b) {
        SuperblockDecode d = SuperblockCodec.decode(MemorySegment.ofArray(b));
        assertThat(d).isInstanceOf(Decoded.class);
        return ((Decoded) d).superblock();
    }

    /** The superblock encoded at the start of a zeroed buffer of {@code size} bytes, as a member's first block. */
    private static byte[] encoded(RaidSuperblock sb, int size) {
        byte[] b = new byte[size];
        SuperblockCodec.encode(sb, MemorySegment.ofArray(b));
        return b;
    }

    private static void assertRefused(byte[] b, Refusal reason, String messagePart) {
        SuperblockDecode d = SuperblockCodec.decode(MemorySegment.ofArray(b));
        assertThat(d).isInstanceOf(Refused.class);
        assertThat(((Refused) d).reason()).isEqualTo(reason);
        assertThat(((Refused) d).message()).contains(messagePart);
    }

    /** Writes the CRC SPDK would compute for the bytes as they now are, so the damage reaches the later checks. */
    private static void reseal(byte[] b) {
        int length = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        putU32(b, 16, 0);
        putU32(b, 16, spdkCrc32c(b, Math.min(length, b.length)));
    }

    /** CRC32C as SPDK's superblock uses it: seed 0, no final inversion; bit by bit, independent of the codec's. */
    private static int spdkCrc32c(byte[] b, int length) {
        int crc = 0;
        for (int i = 0; i < length; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        return crc;
    }

    private static void putU32(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    private static void putU16(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) v);
    }
}
