package io.keel.bdev.raid;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoWaiter;
import io.keel.bdev.BdevLayer;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;

/**
 * A raid1 rebuild ({@code raid_bdev_process} of type rebuild) on the app thread, up to {@link #WINDOWS_IN_FLIGHT}
 * windows at a time, each one: lock it on the raid bdev (writes to it wait), read it through the raid (reads skip
 * the target), write it to the target. Windows end in order: the oldest copied one moves the raid's "rebuilt up to"
 * past it and is unlocked, so the offset is the lowest block not yet copied and every window it moves past is still
 * locked (a window copied ahead of an older one stays locked until that one is done). It starts at block 0, or where
 * a restart found it had come to. One buffer per window, allocated once. Never blocks; stops starting windows once
 * {@link #stop} is called and ends when those in flight have. App thread only.
 */
final class RaidRebuild {
    /** Windows copied at once: enough to hide a window's lock and I/O latency, few enough to hold little back. */
    static final int WINDOWS_IN_FLIGHT = 4;
    /** How often a window waiting for bandwidth looks at the bucket again. */
    private static final long BANDWIDTH_POLL_MICROS = 1000;

    /** A window's status while it is being copied. */
    private static final int COPYING = Integer.MAX_VALUE;

    /**
     * One window: where, how far it has got, its buffer, and its callbacks, made once. A read or write refused for
     * want of a bdev_io waits on the channel for one ({@code spdk_bdev_queue_io_wait}) and is submitted again.
     */
    private final class Window extends BdevIoWaiter {
        final MemorySegment buffer;
        /** The part of {@link #buffer} this window copies: all of it but in a raid's last, shorter window. */
        MemorySegment data;
        long offset;
        long blocks;
        boolean locked;
        /** {@link #COPYING}; then 0 (copied), 1 (given up: the rebuild stops) or a negative errno. */
        int status;
        /** Whether the read is done and the write is what a freed bdev_io resubmits. */
        boolean writing;
        final IntConsumer lockDone = rc -> locked(this, rc);
        final BdevIoCallback readDone = (io, ok, arg) -> readEnded(this, io, ok);
        final BdevIoCallback writeDone = (io, ok, arg) -> {
            io.free();
            windowEnded(this, ok ? 0 : -Errno.EIO);
        };

        Window(MemorySegment buffer) {
            this.buffer = buffer;
        }

        @Override
        public void ioAvailable() {
            if (writing) {
                submitWrite(this);
            } else {
                submitRead(this);
            }
        }
    }

    private final RaidBdev bdev;
    private final BdevDesc target;
    private final long targetDataOffset;
    private final long windowBlocks;
    /** Told the raid blocks copied each time the offset moves (the windows it passed still locked). */
    private final LongConsumer copied;
    /** done(0) when every block is copied; a negative errno when a window failed; 1 when stopped. */
    private final IntConsumer done;
    private final int maxMbPerSecond;
    /** Null without a bandwidth limit. */
    private ProcessBandwidth bandwidth;
    private Poller waitForBandwidth;
    private boolean waitingForBandwidth;
    private final NativeArena arena = new NativeArena();
    /**
     * A ring: from the oldest, {@link #inFlight} windows started and not yet unlocked, of which the first
     * {@link #retired} have ended and been retired in order, of which the first {@link #unlocking} are being unlocked.
     */
    private final Window[] windows = new Window[WINDOWS_IN_FLIGHT];
    private int oldest;
    private int inFlight;
    private int retired;
    private int unlocking;
    private BdevDesc raidDesc;
    private IoChannel<BdevChannel> raidChannel;
    private IoChannel<BdevChannel> targetChannel;
    /** The lowest raid block not yet copied. */
    private long offset;
    /** Where the next window starts. */
    private long next;
    /** 0 while all goes well; the first window's error, or 1 once stopped. */
    private int why;
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
        this.next = fromBlocks;
        this.copied = copied;
        this.done = done;
        long windowBytes = windowBlocks * bdev.blockSize();
        MemorySegment buffers = arena.allocate(windowBytes * WINDOWS_IN_FLIGHT, 4096);
        for (int i = 0; i < WINDOWS_IN_FLIGHT; i++) {
            windows[i] = new Window(buffers.asSlice(i * windowBytes, windowBytes));
        }
    }

    /** Opens the raid bdev (a removal stops the rebuild) and starts the first windows. */
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
        fill();
    }

    private static long now() {
        return KeelThread.current().runtime().clock().nanoTime();
    }

    private int bandwidthPoll() {
        waitForBandwidth.pause();
        waitingForBandwidth = false;
        fill(); // waits again (resuming the poller) if the bucket is still empty
        return waitingForBandwidth ? PollerFn.IDLE : PollerFn.BUSY;
    }

    /** The raid blocks copied so far (below the oldest window in flight). */
    long progress() {
        return offset;
    }

    /** Stops starting windows: those in flight end and are unlocked first. */
    void stop() {
        stop(() -> { });
    }

    /** As {@link #stop()}; {@code then} once the rebuild has put its channels and closed its descriptor. */
    void stop(Runnable then) {
        if (why == 0) {
            why = 1;
        }
        if (ended) {
            then.run();
            return;
        }
        Runnable before = stopped;
        stopped = () -> {
            before.run();
            then.run();
        };
    }

    /** Starts windows while there is room, bandwidth and raid left; ends the rebuild once nothing is in flight. */
    private void fill() {
        while (why == 0 && !waitingForBandwidth && inFlight < WINDOWS_IN_FLIGHT && next < bdev.numBlocks()) {
            long blocks = Math.min(windowBlocks, bdev.numBlocks() - next);
            if (bandwidth != null && !bandwidth.take(blocks * bdev.blockSize(), now())) {
                waitingForBandwidth = true;
                waitForBandwidth.resume();
                return;
            }
            Window w = windows[(oldest + inFlight) % WINDOWS_IN_FLIGHT];
            inFlight++;
            w.offset = next;
            w.blocks = blocks;
            w.data = blocks == windowBlocks ? w.buffer : w.buffer.asSlice(0, blocks * bdev.blockSize());
            w.locked = false;
            w.status = COPYING;
            w.writing = false;
            next += blocks;
            int rc = raidDesc.lockLbaRange(raidChannel.context(), w.offset, w.blocks, w.lockDone);
            if (rc != 0) {
                windowEnded(w, rc);
            }
        }
        if (inFlight == 0 && !waitingForBandwidth && (why != 0 || next >= bdev.numBlocks())) {
            end(why);
        }
    }

    private void locked(Window w, int rc) {
        w.locked = rc == 0;
        if (rc != 0 || why != 0) {
            windowEnded(w, rc != 0 ? rc : 1);
            return;
        }
        submitRead(w);
    }

    private void submitRead(Window w) {
        int rc = raidDesc.read(raidChannel.context(), w.data, w.offset, w.blocks, w.readDone, null);
        if (rc == -Errno.ENOMEM) {
            raidChannel.context().queueIoWait(w);
        } else if (rc != 0) {
            windowEnded(w, rc);
        }
    }

    private void readEnded(Window w, BdevIo io, boolean ok) {
        io.free();
        if (!ok || why != 0) {
            windowEnded(w, ok ? 1 : -Errno.EIO);
            return;
        }
        w.writing = true;
        submitWrite(w);
    }

    private void submitWrite(Window w) {
        int rc = target.write(targetChannel.context(), w.data, targetDataOffset + w.offset, w.blocks, w.writeDone,
                null);
        if (rc == -Errno.ENOMEM) {
            targetChannel.context().queueIoWait(w);
        } else if (rc != 0) {
            windowEnded(w, rc);
        }
    }

    /**
     * {@code w} has ended with {@code status}: the windows from the oldest that have ended retire in order (one still
     * copying holds back those after it), each copied one moving the offset past it while it is still locked; a
     * failure stops the rebuild with its error. Then the retired windows are unlocked.
     */
    private void windowEnded(Window w, int status) {
        w.status = status;
        boolean moved = false;
        while (retired < inFlight && windows[(oldest + retired) % WINDOWS_IN_FLIGHT].status != COPYING) {
            Window ended = windows[(oldest + retired) % WINDOWS_IN_FLIGHT];
            retired++;
            if (ended.status == 0 && why == 0) {
                offset = ended.offset + ended.blocks;
                bdev.rebuiltUpTo(offset);
                moved = true;
            } else if (ended.status < 0 && why == 0) {
                why = ended.status;
            }
        }
        if (moved) {
            copied.accept(offset);
        }
        while (unlocking < retired) {
            unlock(windows[(oldest + unlocking++) % WINDOWS_IN_FLIGHT]);
        }
    }

    /** Unlocks a retired window (if its lock was granted); then it leaves the ring. */
    private void unlock(Window w) {
        if (!w.locked) {
            unlocked();
            return;
        }
        int rc = raidDesc.unlockLbaRange(raidChannel.context(), w.offset, w.blocks, unlockRc -> unlocked());
        if (rc != 0) {
            if (why == 0) {
                why = rc;
            }
            unlocked();
        }
    }

    /**
     * A window being unlocked is: the oldest leaves the ring (which one it was does not matter: they are all
     * retired, and a ring slot is taken again only from the newest end), and the next windows may start.
     */
    private void unlocked() {
        oldest = (oldest + 1) % WINDOWS_IN_FLIGHT;
        inFlight--;
        retired--;
        unlocking--;
        fill();
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
