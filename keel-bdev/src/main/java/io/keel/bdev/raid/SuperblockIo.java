package io.keel.bdev.raid;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Reads and writes raid superblocks at block 0 of members, asynchronously, on the thread the descriptors were opened
 * on (the app thread): a channel and a buffer per operation, released when it ends ({@code raid_bdev_write_superblock},
 * {@code raid_bdev_load_base_bdev_superblock}). Never blocks.
 */
final class SuperblockIo {
    private SuperblockIo() {
    }

    /**
     * Writes {@code sb} (whole blocks, the rest zeroed) to block 0 of every member in {@code members}, all at once;
     * {@code done} gets 0, or the first error, once every write has ended.
     */
    static void write(RaidSuperblock sb, List<BdevDesc> members, IntConsumer done) {
        int blockSize = sb.blockSize();
        long blocks = (sb.length() + blockSize - 1) / blockSize;
        NativeArena arena = new NativeArena();
        MemorySegment buf = arena.allocate(blocks * blockSize, 4096);
        SuperblockCodec.encode(sb, buf);
        writeToAll(buf, members, arena, done);
    }

    /**
     * Zeroes the blocks {@code sb} occupies at the start of every member in {@code members} ({@code clear_sb});
     * {@code done} as for {@link #write}.
     */
    static void clear(RaidSuperblock sb, List<BdevDesc> members, IntConsumer done) {
        int blockSize = sb.blockSize();
        long blocks = (sb.length() + blockSize - 1) / blockSize;
        NativeArena arena = new NativeArena();
        writeToAll(arena.allocate(blocks * blockSize, 4096), members, arena, done); // allocate zeroes
    }

    /** Writes {@code buf} at block 0 of every member, then closes {@code arena} and calls {@code done}. */
    private static void writeToAll(MemorySegment buf, List<BdevDesc> members, NativeArena arena, IntConsumer done) {
        if (members.isEmpty()) {
            arena.close();
            done.accept(0);
            return;
        }
        long blocks = buf.byteSize() / members.getFirst().bdev().blockSize();
        int[] left = {members.size()};
        int[] firstError = {0};
        for (BdevDesc member : members) {
            IoChannel<BdevChannel> ch = member.getIoChannel();
            IntConsumer ended = rc -> {
                ch.put();
                if (rc != 0 && firstError[0] == 0) {
                    firstError[0] = rc;
                }
                if (--left[0] == 0) {
                    arena.close();
                    done.accept(firstError[0]);
                }
            };
            int rc = member.write(ch.context(), buf, 0, blocks, (io, ok, arg) -> {
                io.free();
                ended.accept(ok ? 0 : -Errno.EIO);
            }, null);
            if (rc != 0) {
                ended.accept(rc);
            }
        }
    }

    /**
     * Reads what the first blocks of {@code member} holds and decodes it, reading on while it says {@link
     * SuperblockDecode.Incomplete}; {@code done} gets the decode, or a refusal when the member is too small or the
     * read fails.
     */
    static void read(BdevDesc member, Consumer<SuperblockDecode> done) {
        read(member, RaidSuperblock.HEADER_SIZE, done);
    }

    private static void read(BdevDesc member, int bytes, Consumer<SuperblockDecode> done) {
        int blockSize = member.bdev().blockSize();
        long blocks = (bytes + blockSize - 1) / blockSize;
        if (blocks > member.bdev().numBlocks()) {
            done.accept(new SuperblockDecode.Refused(SuperblockDecode.Refusal.UNREADABLE, "the bdev is too small"));
            return;
        }
        NativeArena arena = new NativeArena();
        MemorySegment buf = arena.allocate(blocks * blockSize, 4096);
        IoChannel<BdevChannel> ch = member.getIoChannel();
        int rc = member.read(ch.context(), buf, 0, blocks, (BdevIo io, boolean ok, Object arg) -> {
            io.free();
            ch.put();
            SuperblockDecode d = ok ? SuperblockCodec.decode(buf)
                    : new SuperblockDecode.Refused(SuperblockDecode.Refusal.UNREADABLE, "the read failed");
            arena.close();
            if (d instanceof SuperblockDecode.Incomplete more && more.neededBytes() > bytes) {
                read(member, more.neededBytes(), done);
            } else {
                done.accept(d);
            }
        }, null);
        if (rc != 0) {
            ch.put();
            arena.close();
            done.accept(new SuperblockDecode.Refused(SuperblockDecode.Refusal.UNREADABLE, "the read failed: " + rc));
        }
    }
}
