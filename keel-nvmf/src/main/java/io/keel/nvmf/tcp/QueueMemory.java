package io.keel.nvmf.tcp;

import io.keel.core.mem.NativeArena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The native memory a poll group's connections hold (rule R10): request tables (SQE copies and in-capsule
 * buffers, {@link RequestTable}) and send buffers ({@link SendBuffer}), in blocks taken when a connection needs
 * them and given back when it ends. A block given back is kept for the next connection that asks for the same
 * size, so connect/disconnect churn allocates nothing once warm. Blocks in use and kept together never pass
 * {@link #limit()}: kept blocks are freed to make room, and a take that still does not fit is refused (null) —
 * the caller refuses its connection. Owner thread only.
 *
 * <p>Every block has its own {@link NativeArena}, closed when the block is freed. A send buffer that must grow
 * past the limit may ({@link #take(long, boolean)} answers beyond it and counts it), the connection's back-pressure
 * bounds by how much.
 *
 * <p>Kept blocks of a size nobody took for {@link #IDLE_TRIMS} calls of {@link #trim} in a row are freed
 * (the poll group trims every second), so memory a burst of connections left behind goes back once the burst is
 * over, while steady churn keeps reusing it.
 */
final class QueueMemory {
    /** One block: its memory and what its last user built on it (reused with it, e.g. a table's requests). */
    static final class Block {
        final MemorySegment segment;
        private final NativeArena arena;
        Object attachment;

        private Block(NativeArena arena, MemorySegment segment) {
            this.arena = arena;
            this.segment = segment;
        }

        long size() {
            return segment.byteSize();
        }

        private void free() {
            arena.close();
        }
    }

    /** Trims in a row without a take after which a size's kept blocks are freed. */
    static final int IDLE_TRIMS = 10;

    /** The blocks kept of one size. */
    private static final class Kept {
        final long size;
        final ArrayDeque<Block> blocks = new ArrayDeque<>();
        /** Trims since a block of this size was last taken. */
        int idleTrims;

        Kept(long size) {
            this.size = size;
        }
    }

    private final long limit;
    private final List<Kept> kept = new ArrayList<>();
    private long inUse;
    private long keptBytes;
    private long peakInUse;
    private int blocksInUse;
    private long refusals;
    private long allocations;
    private boolean closed;

    QueueMemory(long limit) {
        this.limit = limit;
    }

    /** A block of {@code bytes}, or null when the limit leaves no room. */
    Block take(long bytes) {
        return take(bytes, false);
    }

    /**
     * A block of {@code bytes}; past the limit it is still given ({@code overLimit}: a send buffer that must grow)
     * and counted, or else null when the limit leaves no room.
     */
    Block take(long bytes, boolean overLimit) {
        if (closed) {
            throw new IllegalStateException("queue memory closed");
        }
        Kept k = keptOf(bytes);
        k.idleTrims = 0;
        Block b = k.blocks.poll();
        if (b != null) {
            keptBytes -= bytes;
        } else {
            makeRoom(bytes);
            if (inUse + keptBytes + bytes > limit && !overLimit) {
                refusals++;
                return null;
            }
            b = allocate(bytes);
            allocations++;
        }
        inUse += bytes;
        blocksInUse++;
        peakInUse = Math.max(peakInUse, inUse);
        return b;
    }

    private static Block allocate(long bytes) {
        NativeArena arena = new NativeArena(); // the application thread reads forwarded commands' SQEs and data too
        return new Block(arena, arena.allocate(bytes, 64));
    }

    /** Frees kept blocks until {@code bytes} more fit, or none are left. */
    private void makeRoom(long bytes) {
        for (int i = 0; i < kept.size() && inUse + keptBytes + bytes > limit; i++) {
            Kept k = kept.get(i);
            while (!k.blocks.isEmpty() && inUse + keptBytes + bytes > limit) {
                k.blocks.poll().free();
                keptBytes -= k.size;
            }
        }
    }

    private Kept keptOf(long bytes) {
        for (int i = 0; i < kept.size(); i++) {
            Kept k = kept.get(i);
            if (k.size == bytes) {
                return k;
            }
        }
        Kept k = new Kept(bytes);
        kept.add(k);
        return k;
    }

    /** Gives a block back (kept for the next taker of its size; freed if this pool has closed). */
    void give(Block b) {
        inUse -= b.size();
        blocksInUse--;
        if (closed) {
            b.free();
            return;
        }
        keptOf(b.size()).blocks.push(b);
        keptBytes += b.size();
    }

    /**
     * Frees the kept blocks of every size not taken since the last {@link #IDLE_TRIMS} trims; answers the
     * bytes freed.
     */
    long trim() {
        long freed = 0;
        for (Kept k : kept) {
            if (++k.idleTrims >= IDLE_TRIMS) {
                while (!k.blocks.isEmpty()) {
                    k.blocks.poll().free();
                    keptBytes -= k.size;
                    freed += k.size;
                }
            }
        }
        return freed;
    }

    /** Frees every kept block; blocks still in use are freed when given back. Idempotent. */
    void close() {
        closed = true;
        for (Kept k : kept) {
            for (Block b : k.blocks) {
                b.free();
            }
            k.blocks.clear();
        }
        kept.clear();
        keptBytes = 0;
    }

    long limit() {
        return limit;
    }

    /** Bytes in blocks that connections hold now. */
    long inUse() {
        return inUse;
    }

    /** Bytes in blocks kept for reuse. */
    long kept() {
        return keptBytes;
    }

    long peakInUse() {
        return peakInUse;
    }

    int blocksInUse() {
        return blocksInUse;
    }

    /** Blocks allocated so far (not taken from those kept): flat under steady churn. */
    long allocations() {
        return allocations;
    }

    /** Takes refused because the limit left no room. */
    long refusals() {
        return refusals;
    }
}
