package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An I/O load on one lightweight thread, for scenario tests under {@link SimBdevLayer}: opens a
 * bdev read-write and keeps {@code queueDepth} I/Os in flight over its region of it, alternating writes of a fixed
 * pattern from its own buffers with reads into buffers the layer lends from iobuf ({@link BdevDesc#readPooled}); waits
 * for a bdev_io when the pool is dry. Told REMOVE, it submits nothing more, lets what is in flight complete, then puts
 * its channel and closes its descriptor. Everything it counts is read on its thread or between simulation steps.
 *
 * <p>It checks what a teardown race would break: each submission is completed exactly once, on this thread, with the
 * blocks it asked for ({@link #wrongCompletions()} counts any other), and a read finds either the pattern or zeros.
 */
public final class SimIoWorker extends BdevIoWaiter {
    private final KeelThread thread;
    private final String bdevName;
    private final long firstBlock;
    private final long blocks;
    private final int queueDepth;
    private final MemorySegment[] buffers;
    /** Each slot's I/O in flight, or null. */
    private final Submission[] slots;
    private BdevDesc desc;
    private IoChannel<BdevChannel> channel;
    private long next;
    private int inFlight;
    private boolean waiting;
    private long submitted;
    private long succeeded;
    private long failed;
    private long refused;
    private long wrongCompletions;
    private long badData;
    private int removeEvents;
    private int openError;
    private boolean closed;

    public SimIoWorker(KeelThread thread, String bdevName, long firstBlock, long blocks, int queueDepth) {
        this.thread = thread;
        this.bdevName = bdevName;
        this.firstBlock = firstBlock;
        this.blocks = blocks;
        this.queueDepth = queueDepth;
        this.buffers = new MemorySegment[queueDepth];
        this.slots = new Submission[queueDepth];
    }

    /** Opens the bdev and starts the I/O, on the worker's thread (one message later); see {@link #openError()}. */
    public void start(BdevLayer layer) {
        thread.send(() -> {
            try {
                desc = layer.open(bdevName, true, (event, bdev) -> {
                    if (event == BdevEvent.REMOVE) {
                        removeEvents++;
                        maybeClose();
                    }
                });
            } catch (BdevException e) { // the bdev is gone or going (a removal that began first)
                openError = e.errno();
                closed = true;
                return;
            }
            channel = desc.getIoChannel();
            for (int i = 0; i < queueDepth; i++) {
                buffers[i] = MemorySegment.ofArray(new long[desc.bdev().blockSize() / 8]); // heap: nothing to free
            }
            pump();
        });
    }

    private void pump() {
        for (int slot = 0; slot < queueDepth && removeEvents == 0 && !waiting; slot++) {
            if (slots[slot] != null) {
                continue;
            }
            Submission sub = new Submission(slot, firstBlock + (next / 2) % blocks);
            int rc;
            if (next % 2 == 0) {
                fill(buffers[slot], sub.block());
                rc = desc.write(channel.context(), buffers[slot], sub.block(), 1, this::done, sub);
            } else {
                rc = desc.readPooled(channel.context(), sub.block(), 1, this::done, sub);
            }
            if (rc == -Errno.ENOMEM) {
                waiting = true;
                channel.context().queueIoWait(this);
            } else if (rc != 0) {
                refused++;
            } else {
                slots[slot] = sub;
                inFlight++;
                submitted++;
                next++;
            }
        }
    }

    @Override
    public void ioAvailable() {
        waiting = false;
        pump();
        maybeClose();
    }

    private void done(BdevIo io, boolean success, Object arg) {
        Submission sub = (Submission) arg;
        if (KeelThread.current() != thread || slots[sub.slot()] != sub || io.offsetBlocks() != sub.block()) {
            wrongCompletions++; // a second completion, or on another thread, or with another I/O's blocks
        } else {
            slots[sub.slot()] = null;
            inFlight--;
        }
        if (!success) {
            failed++;
        } else {
            succeeded++;
            if (io.type() == IoType.READ && !holdsPatternOrZeros(io.iov(0), io.iovLength(0), io.offsetBlocks())) {
                badData++;
            }
        }
        io.free();
        pump();
        maybeClose();
    }

    /** After REMOVE: closes once nothing is in flight and no wait for a bdev_io is queued. */
    private void maybeClose() {
        if (removeEvents > 0 && inFlight == 0 && !waiting && !closed) {
            closed = true;
            channel.put();
            desc.close();
        }
    }

    /** One submitted I/O (its identity tells a second completion from the slot's next I/O). */
    private record Submission(int slot, long block) {
    }

    private static void fill(MemorySegment buf, long block) {
        for (long i = 0; i < buf.byteSize(); i += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, block * 1_000_003L + i);
        }
    }

    /** Whether the first {@code length} bytes of {@code buf} (a lent buffer may be longer) are all one or the other. */
    private static boolean holdsPatternOrZeros(MemorySegment buf, long length, long block) {
        boolean zeros = true;
        boolean pattern = true;
        for (long i = 0; i < length; i += 8) {
            long v = buf.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
            zeros &= v == 0;
            pattern &= v == block * 1_000_003L + i;
        }
        return zeros || pattern;
    }

    /** I/Os submitted (accepted by the layer). */
    public long submitted() {
        return submitted;
    }

    public long succeeded() {
        return succeeded;
    }

    public long failed() {
        return failed;
    }

    /** Submissions refused with an errno other than -ENOMEM. */
    public long refused() {
        return refused;
    }

    /** Completions that did not match an I/O in flight on this thread (a double completion, say). */
    public long wrongCompletions() {
        return wrongCompletions;
    }

    /** Reads that found neither the pattern nor zeros. */
    public long badData() {
        return badData;
    }

    public int inFlight() {
        return inFlight;
    }

    /** The open's errno (-ENODEV if the removal began first), or 0 if it opened. */
    public int openError() {
        return openError;
    }

    /** How many REMOVE events the descriptor was told. */
    public int removeEvents() {
        return removeEvents;
    }

    /** Whether the worker has put its channel and closed its descriptor (or never opened one). */
    public boolean closed() {
        return closed;
    }

    @Override
    public String toString() {
        return thread.name() + ": " + submitted + " submitted, " + succeeded + " ok, " + failed + " failed, " + inFlight
                + " in flight, " + refused + " refused, " + wrongCompletions + " wrong completions, " + badData
                + " bad reads, " + removeEvents + " REMOVE, " + (openError != 0 ? "open failed " + openError
                : closed ? "closed" : "open");
    }
}
