package io.keel.app.perf;

import io.keel.nvme.host.Namespace;
import io.keel.nvme.host.TcpQpair;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * One core's load: an OS thread busy-polling its own I/O queue pair and keeping {@code -q} commands in flight.
 * Buffers (one per command ID), the free-ID stack, timestamps and the latency histogram exist before the
 * first I/O, so the loop allocates nothing.
 */
final class PerfWorker implements Runnable, TcpQpair.CompletionHandler {
    /** Latencies above this are recorded as this (the histogram has a fixed range so it never resizes). */
    static final long MAX_LATENCY_NS = 60_000_000_000L;
    private static final long DRAIN_NS = 5_000_000_000L;

    final int core;
    private final TcpQpair q;
    private final PerfOptions o;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffers;
    private final long[] submittedAt;
    private final boolean[] isRead;
    private final int[] free;
    private int freeCount;
    private final SplittableRandom random;
    private final int blocksPerIo;
    private final long ioSlots;
    private long nextSlot;
    final Histogram latency = new Histogram(1, MAX_LATENCY_NS, 3);

    private volatile boolean stop;
    private boolean counting = true;
    /** Completed without error while counting; volatile so the main thread can sample it (single writer). */
    volatile long completed;
    long reads;
    long writes;
    long failed;
    int firstFailureStatus;
    long elapsedNs;
    volatile Throwable error;

    PerfWorker(int core, int index, int workers, TcpQpair q, Namespace ns, PerfOptions o) {
        this.core = core;
        this.q = q;
        this.o = o;
        int depth = o.queueDepth();
        this.buffers = arena.allocate((long) depth * o.ioSize(), 4096);
        for (long i = 0; i < buffers.byteSize(); i += 8) {
            buffers.set(ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L + core);
        }
        this.submittedAt = new long[depth];
        this.isRead = new boolean[depth];
        this.free = new int[depth];
        for (int cid = depth - 1; cid >= 0; cid--) {
            free[freeCount++] = cid;
        }
        this.random = new SplittableRandom(o.seed() + core);
        this.blocksPerIo = o.ioSize() / ns.blockSize();
        this.ioSlots = ns.blocks() / blocksPerIo;
        this.nextSlot = ioSlots * index / workers;
        q.handler(this);
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        long start = System.nanoTime();
        try {
            while (!stop) {
                fill();
                q.poll();
            }
            elapsedNs = System.nanoTime() - start;
            counting = false;
            drain();
        } catch (IOException | RuntimeException e) {
            if (elapsedNs == 0) {
                elapsedNs = System.nanoTime() - start;
            }
            error = e;
        } finally {
            q.close();
            arena.close();
        }
    }

    /** Submits on every free command ID, as far as the send buffer takes them. */
    private void fill() throws IOException {
        while (freeCount > 0) {
            int cid = free[freeCount - 1];
            boolean read = o.readPercent() == 100 || (o.readPercent() > 0 && random.nextInt(100) < o.readPercent());
            long slba = nextSlot() * blocksPerIo;
            long off = (long) cid * o.ioSize();
            submittedAt[cid] = System.nanoTime();
            boolean sent = read ? q.read(cid, o.nsid(), slba, blocksPerIo, buffers, off, o.ioSize())
                    : q.write(cid, o.nsid(), slba, blocksPerIo, buffers, off, o.ioSize());
            if (!sent) {
                return;
            }
            isRead[cid] = read;
            freeCount--;
        }
    }

    private long nextSlot() {
        if (o.workload().random()) {
            return random.nextLong(ioSlots);
        }
        long s = nextSlot;
        nextSlot = s + 1 == ioSlots ? 0 : s + 1;
        return s;
    }

    @Override
    public void onCompletion(int cid, int status, long result) {
        long ns = System.nanoTime() - submittedAt[cid];
        free[freeCount++] = cid;
        if (!counting) {
            return;
        }
        if (status != 0) {
            if (failed++ == 0) {
                firstFailureStatus = status;
            }
            return;
        }
        latency.recordValue(Math.min(Math.max(ns, 1), MAX_LATENCY_NS));
        if (isRead[cid]) {
            reads++;
        } else {
            writes++;
        }
        completed++;
    }

    /** Waits (bounded) for what is still in flight so the connection closes clean. */
    private void drain() throws IOException {
        long deadline = System.nanoTime() + DRAIN_NS;
        while (q.outstanding() > 0) {
            q.poll();
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(q.outstanding() + " I/O still outstanding " + DRAIN_NS / 1_000_000_000
                        + " s after the run ended");
            }
        }
    }
}
