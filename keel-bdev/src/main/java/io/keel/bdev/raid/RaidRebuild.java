package io.keel.bdev.raid;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevLayer;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;

/**
 * A raid1 rebuild ({@code raid_bdev_process} of type rebuild) on the app thread, one window at a time: lock the
 * window on the raid bdev (writes to it wait), read it through the raid (reads skip the target), write it to the
 * target, move the raid's "rebuilt up to" past it, unlock. It starts at block 0, or where a restart found it had
 * come to. One window buffer, allocated once. Never blocks; stops at the next step once {@link #stop} is called.
 * App thread only.
 */
final class RaidRebuild {
    /** How often a window waiting for bandwidth looks at the bucket again. */
    private static final long BANDWIDTH_POLL_MICROS = 1000;

    private final RaidBdev bdev;
    private final BdevDesc target;
    private final long targetDataOffset;
    private final long windowBlocks;
    /** Told the raid blocks copied after each window (the window unlocked). */
    private final LongConsumer copied;
    /** done(0) when every block is copied; a negative errno when a window failed; 1 when stopped. */
    private final IntConsumer done;
    private final int maxMbPerSecond;
    /** Null without a bandwidth limit. */
    private ProcessBandwidth bandwidth;
    private Poller waitForBandwidth;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private BdevDesc raidDesc;
    private IoChannel<BdevChannel> raidChannel;
    private IoChannel<BdevChannel> targetChannel;
    private long offset;
    private long blocks;
    private boolean stopping;
    private boolean ended;
    /** What runs once a stopped rebuild has let go of everything. */
    private Runnable stopped = () -> { };

    /**
     * {@code maxMbPerSecond}: the bandwidth the copy may take (0: no limit); a window waits for it on a poller,
     * paused while it has nothing to wait for. {@code fromBlocks}: the raid blocks already on the target.
     */
    RaidRebuild(RaidBdev bdev, BdevDesc target, long targetDataOffset, long windowBlocks, int maxMbPerSecond,
            long fromBlocks, LongConsumer copied, IntConsumer done) {
        this.bdev = bdev;
        this.maxMbPerSecond = maxMbPerSecond;
        this.target = target;
        this.targetDataOffset = targetDataOffset;
        this.windowBlocks = windowBlocks;
        this.offset = fromBlocks;
        this.copied = copied;
        this.done = done;
        this.buffer = arena.allocate(windowBlocks * bdev.blockSize(), 4096);
    }

    /** Opens the raid bdev (a removal stops the rebuild) and copies the first window. */
    void start(BdevLayer layer) {
        raidDesc = layer.open(bdev.name(), false, (event, b) -> {
            if (event == BdevEvent.REMOVE) {
                stop();
            }
        });
        raidChannel = raidDesc.getIoChannel();
        targetChannel = target.getIoChannel();
        if (maxMbPerSecond > 0) {
            bandwidth = new ProcessBandwidth(maxMbPerSecond, now());
            waitForBandwidth = KeelThread.current().registerPoller(bdev.name() + "_rebuild_bandwidth",
                    this::bandwidthPoll, BANDWIDTH_POLL_MICROS);
            waitForBandwidth.pause();
        }
        nextWindow();
    }

    private static long now() {
        return KeelThread.current().runtime().clock().nanoTime();
    }

    private int bandwidthPoll() {
        if (stopping || bandwidth.take(blocks * bdev.blockSize(), now())) {
            waitForBandwidth.pause();
            lockWindow();
            return PollerFn.BUSY;
        }
        return PollerFn.IDLE;
    }

    /** The raid blocks copied so far. */
    long progress() {
        return offset;
    }

    /** Stops at the next step: a window in flight ends and is unlocked first. */
    void stop() {
        stop(() -> { });
    }

    /** As {@link #stop()}; {@code then} once the rebuild has put its channels and closed its descriptor. */
    void stop(Runnable then) {
        stopping = true;
        if (ended) {
            then.run();
        } else {
            Runnable before = stopped;
            stopped = () -> {
                before.run();
                then.run();
            };
        }
    }

    private void nextWindow() {
        if (stopping || offset >= bdev.numBlocks()) {
            end(stopping ? 1 : 0);
            return;
        }
        blocks = Math.min(windowBlocks, bdev.numBlocks() - offset);
        if (bandwidth != null && !bandwidth.take(blocks * bdev.blockSize(), now())) {
            waitForBandwidth.resume();
            return;
        }
        lockWindow();
    }

    private void lockWindow() {
        if (stopping) {
            end(1);
            return;
        }
        int rc = raidDesc.lockLbaRange(raidChannel.context(), offset, blocks, this::locked);
        if (rc != 0) {
            end(rc);
        }
    }

    private void locked(int rc) {
        if (rc != 0 || stopping) {
            unlock(rc != 0 ? rc : 1);
            return;
        }
        MemorySegment window = buffer.asSlice(0, blocks * bdev.blockSize());
        rc = raidDesc.read(raidChannel.context(), window, offset, blocks, (io, ok, arg) -> read(io, ok), null);
        if (rc != 0) {
            unlock(rc);
        }
    }

    private void read(BdevIo io, boolean ok) {
        io.free();
        if (!ok || stopping) {
            unlock(ok ? 1 : -Errno.EIO);
            return;
        }
        MemorySegment window = buffer.asSlice(0, blocks * bdev.blockSize());
        int rc = target.write(targetChannel.context(), window, targetDataOffset + offset, blocks,
                (w, written, arg) -> written(w, written), null);
        if (rc != 0) {
            unlock(rc);
        }
    }

    private void written(BdevIo io, boolean ok) {
        io.free();
        if (ok) {
            bdev.rebuiltUpTo(offset + blocks);
        }
        unlock(ok ? 0 : -Errno.EIO);
    }

    /** Unlocks the window; then the next one, or the end with {@code why} (0: go on). */
    private void unlock(int why) {
        long start = offset;
        if (why == 0) {
            offset += blocks;
        }
        int rc = raidDesc.unlockLbaRange(raidChannel.context(), start, blocks, unlocked -> {
            if (why == 0) {
                copied.accept(offset);
                nextWindow();
            } else {
                end(why);
            }
        });
        if (rc != 0) {
            end(rc);
        }
    }

    private void end(int rc) {
        if (ended) {
            return;
        }
        ended = true;
        if (waitForBandwidth != null) {
            waitForBandwidth.unregister();
        }
        raidChannel.put();
        targetChannel.put();
        raidDesc.close();
        arena.close();
        done.accept(rc);
        stopped.run();
    }
}
