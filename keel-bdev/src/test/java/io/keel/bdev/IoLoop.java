package io.keel.bdev;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;

/**
 * Test driver on one lightweight thread: writes a pattern to every block of a region, then reads each back
 * and checks it, keeping {@code qd} I/Os in flight and waiting for a bdev_io when the pool is dry. Stops early
 * (closing cleanly) when its bdev is hot-removed.
 */
final class IoLoop extends BdevIoWaiter {
    /** What a run did. */
    record Result(long written, long read, long mismatches, long failed, long enomem, boolean removed) {
    }

    private final KeelThread thread;
    private final String bdevName;
    private final long firstBlock;
    private final long blocks;
    private final int qd;
    private final boolean verify;
    private final CompletableFuture<Result> done = new CompletableFuture<>();
    private final CompletableFuture<Void> running = new CompletableFuture<>();
    private final Arena arena = Arena.ofShared();
    private BdevDesc desc;
    private IoChannel<BdevChannel> channel;
    private MemorySegment[] buffers;
    private int[] freeSlots;
    private int freeCount;
    private long nextBlock;
    private boolean reading;
    private int inFlight;
    private long written;
    private long read;
    private long mismatches;
    private long failed;
    private long enomem;
    private boolean removed;
    private boolean finished;
    private boolean waiting;
    private boolean skipWrites;
    private boolean untilRemoved;

    IoLoop(KeelThread thread, String bdevName, long firstBlock, long blocks, int qd, boolean verify) {
        this.thread = thread;
        this.bdevName = bdevName;
        this.firstBlock = firstBlock;
        this.blocks = blocks;
        this.qd = qd;
        this.verify = verify;
    }

    /** Keeps writing round the region until the bdev is removed (no verify). */
    IoLoop untilRemoved() {
        untilRemoved = true;
        return this;
    }

    /** Only the read-and-check half: the blocks were written before (by another process, say). */
    IoLoop readOnly() {
        skipWrites = true;
        reading = true;
        return this;
    }

    /** Completes once the first I/O of this loop has completed. */
    CompletableFuture<Void> running() {
        return running;
    }

    CompletableFuture<Result> start(BdevLayer layer) {
        thread.send(() -> guarded(() -> {
            desc = layer.open(bdevName, !skipWrites, (event, bdev) -> {
                if (event == BdevEvent.REMOVE) {
                    removed = true;
                    guarded(this::maybeFinish);
                }
            });
            channel = desc.getIoChannel();
            int bs = desc.bdev().blockSize();
            buffers = new MemorySegment[qd];
            freeSlots = new int[qd];
            for (int i = 0; i < qd; i++) {
                buffers[i] = arena.allocate(bs, 4096);
                freeSlots[freeCount++] = i;
            }
            pump();
        }));
        return done;
    }

    /** Runs a step of the loop; what it throws fails the run rather than leaving its future hanging. */
    private void guarded(Runnable step) {
        try {
            step.run();
        } catch (Throwable e) {
            finished = true;
            done.completeExceptionally(e);
            running.completeExceptionally(e);
        }
    }

    private void pump() {
        while (!removed && freeCount > 0 && !phaseDone()) {
            int slot = freeSlots[freeCount - 1];
            long block = firstBlock + nextBlock % blocks;
            MemorySegment buf = buffers[slot];
            int rc;
            if (!reading) {
                fill(buf, block);
                rc = desc.write(channel.context(), buf, block, 1, this::onDone, slot);
            } else {
                rc = desc.read(channel.context(), buf, block, 1, this::onDone, slot);
            }
            if (rc == -io.keel.core.rpc.Errno.ENOMEM) {
                enomem++;
                if (!waiting) {
                    waiting = true;
                    channel.context().queueIoWait(this);
                }
                return;
            }
            if (rc != 0) {
                throw new IllegalStateException("submit failed: " + rc);
            }
            freeCount--;
            inFlight++;
            nextBlock++;
        }
        if (!reading && phaseDone() && inFlight == 0 && verify) {
            reading = true;
            nextBlock = 0;
            pump();
            return;
        }
        maybeFinish();
    }

    private boolean phaseDone() {
        return !untilRemoved && nextBlock >= blocks;
    }

    @Override
    public void ioAvailable() {
        waiting = false;
        guarded(this::pump);
    }

    private void onDone(BdevIo io, boolean success, Object arg) {
        int slot = (Integer) arg;
        if (!success) {
            failed++;
        } else if (io.type() == IoType.WRITE) {
            written++;
        } else {
            read++;
            if (!matches(buffers[slot], io.offsetBlocks())) {
                mismatches++;
            }
        }
        io.free();
        inFlight--;
        freeSlots[freeCount++] = slot;
        running.complete(null);
        guarded(this::pump);
    }

    private void maybeFinish() {
        boolean complete = phaseDone() && (reading || !verify);
        if (finished || inFlight > 0 || !(removed || complete)) {
            return;
        }
        finished = true;
        channel.put();
        desc.close();
        done.complete(new Result(written, read, mismatches, failed, enomem, removed));
    }

    static void fill(MemorySegment buf, long block) {
        for (long i = 0; i < buf.byteSize(); i += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, block * 1_000_003L + i);
        }
    }

    static boolean matches(MemorySegment buf, long block) {
        for (long i = 0; i < buf.byteSize(); i += 8) {
            if (buf.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != block * 1_000_003L + i) {
                return false;
            }
        }
        return true;
    }
}
