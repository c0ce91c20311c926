package io.keel.app.nvme;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoWaiter;
import io.keel.bdev.BdevLayer;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;

/**
 * Test load on one lightweight thread of the host: {@code qd} slots, each owning its own I/O-sized ranges, each writing a
 * pattern (block, generation) and reading it back before moving on, so every read is checked against what this
 * slot last wrote there. A failed command is counted and its slot starts over with a new write. Runs until
 * {@link #stop} or until the bdev is removed, then closes its descriptor and reports.
 */
public final class HostLoad extends BdevIoWaiter {
    public record Result(long writes, long reads, long mismatches, long failures, long maxLatencyMs, boolean removed) {
    }

    private final KeelThread thread;
    private final String bdevName;
    private final long firstBlock;
    private final int qd;
    private final int blocksPerSlot;
    private final int ioBlocks;
    private final CompletableFuture<Result> done = new CompletableFuture<>();
    private final Arena arena = Arena.ofShared();
    private BdevDesc desc;
    private IoChannel<BdevChannel> channel;
    private MemorySegment[] buffers;
    private long[] generation;
    private int[] position;
    private boolean[] reading;
    private long[] startedNanos;
    private int[] waiting;
    private int waitingCount;
    private boolean waitQueued;
    private int inFlight;
    private volatile long writes;
    private volatile long reads;
    private long mismatches;
    private volatile long failures;
    private long maxLatencyNanos;
    private boolean removed;
    private volatile boolean stopping;
    private boolean finished;

    /** One-block I/O. */
    public HostLoad(KeelThread thread, String bdevName, long firstBlock, int qd, int blocksPerSlot) {
        this(thread, bdevName, firstBlock, qd, blocksPerSlot, 1);
    }

    /** I/O of {@code ioBlocks} blocks; each slot owns {@code blocksPerSlot} ranges of that size. */
    public HostLoad(KeelThread thread, String bdevName, long firstBlock, int qd, int blocksPerSlot, int ioBlocks) {
        this.thread = thread;
        this.bdevName = bdevName;
        this.firstBlock = firstBlock;
        this.qd = qd;
        this.blocksPerSlot = blocksPerSlot;
        this.ioBlocks = ioBlocks;
    }

    public CompletableFuture<Result> start(BdevLayer layer) {
        thread.send(() -> {
            desc = layer.open(bdevName, true, (event, bdev) -> {
                if (event == BdevEvent.REMOVE) {
                    removed = true;
                    maybeFinish();
                }
            });
            channel = desc.getIoChannel();
            int bs = desc.bdev().blockSize();
            buffers = new MemorySegment[qd];
            generation = new long[qd];
            position = new int[qd];
            reading = new boolean[qd];
            startedNanos = new long[qd];
            waiting = new int[qd];
            for (int i = 0; i < qd; i++) {
                buffers[i] = arena.allocate((long) bs * ioBlocks, 4096);
                submit(i);
            }
        });
        return done;
    }

    /** Commands completed so far, successful or not (any thread). */
    public long completed() {
        return writes + reads + failures;
    }

    public long failures() {
        return failures;
    }

    /** Asks the load to stop (any thread); the future completes once its I/O has ended. */
    public CompletableFuture<Result> stop() {
        stopping = true;
        thread.send(this::maybeFinish);
        return done;
    }

    private long block(int slot) {
        return firstBlock + ((long) slot * blocksPerSlot + position[slot]) * ioBlocks;
    }

    private void submit(int slot) {
        if (stopping || removed) {
            maybeFinish();
            return;
        }
        MemorySegment buf = buffers[slot];
        long block = block(slot);
        int rc;
        if (reading[slot]) {
            buf.fill((byte) 0);
            rc = desc.read(channel.context(), buf, block, ioBlocks, this::onDone, slot);
        } else {
            fill(buf, block, generation[slot]);
            rc = desc.write(channel.context(), buf, block, ioBlocks, this::onDone, slot);
        }
        if (rc == -Errno.ENOMEM) {
            waiting[waitingCount++] = slot;
            if (!waitQueued) {
                waitQueued = true;
                channel.context().queueIoWait(this);
            }
            return;
        }
        if (rc != 0) {
            failures++;
            maybeFinish();
            return;
        }
        startedNanos[slot] = System.nanoTime();
        inFlight++;
    }

    @Override
    public void ioAvailable() {
        waitQueued = false;
        int n = waitingCount;
        waitingCount = 0;
        for (int i = 0; i < n; i++) {
            submit(waiting[i]);
        }
    }

    private void onDone(BdevIo io, boolean success, Object arg) {
        int slot = (Integer) arg;
        inFlight--;
        maxLatencyNanos = Math.max(maxLatencyNanos, System.nanoTime() - startedNanos[slot]);
        boolean wasRead = reading[slot];
        io.free();
        if (!success) {
            failures++;
            reading[slot] = false;
            generation[slot]++;
        } else if (!wasRead) {
            writes++;
            reading[slot] = true;
        } else {
            reads++;
            if (!matches(buffers[slot], block(slot), generation[slot])) {
                mismatches++;
            }
            reading[slot] = false;
            generation[slot]++;
            position[slot] = (position[slot] + 1) % blocksPerSlot;
        }
        submit(slot);
    }

    private void maybeFinish() {
        if (finished || inFlight > 0 || !(stopping || removed)) {
            return;
        }
        finished = true;
        channel.put();
        desc.close();
        done.complete(new Result(writes, reads, mismatches, failures, maxLatencyNanos / 1_000_000, removed));
    }

    static void fill(MemorySegment buf, long block, long gen) {
        for (long i = 0; i < buf.byteSize(); i += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, block * 1_000_003L + gen * 7919L + i);
        }
    }

    static boolean matches(MemorySegment buf, long block, long gen) {
        for (long i = 0; i < buf.byteSize(); i += 8) {
            if (buf.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != block * 1_000_003L + gen * 7919L + i) {
                return false;
            }
        }
        return true;
    }
}
