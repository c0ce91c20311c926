package io.keel.vhost.testing;

import io.keel.vhost.blk.VirtioBlk;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A guest's I/O, one 4 KiB request at a time on queue 0 (writes and reads in turn over 256 KiB), run on its own
 * thread until stopped: when each completed, and how many failed. For scenario S2: the longest gap between
 * completions while something else happens. {@link #close} stops the thread and waits for it, so a test that ends
 * (or fails) never unmaps the guest's RAM under its driver: use it in try-with-resources.
 */
public final class BlkLoad implements Runnable, AutoCloseable {
    private final BlkGuest guest;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger failed = new AtomicInteger();
    /** Every gap between completions longer than {@link #NOTED_GAP_NANOS}: its start and end (System.nanoTime). */
    private final long[] gapStarts = new long[1 << 16];
    private final long[] gapEnds = new long[1 << 16];
    private volatile int gaps;
    private volatile long lastCompletion;
    private volatile int count;

    private Thread thread;

    public BlkLoad(BlkGuest guest) {
        this.guest = guest;
    }

    /** Runs a load on {@code guest} on a new thread named {@code name}. */
    public static BlkLoad start(BlkGuest guest, String name) {
        BlkLoad load = new BlkLoad(guest);
        load.thread = new Thread(load, name);
        load.thread.start();
        return load;
    }

    /** Gaps shorter than this are not kept: the bounds tests check are far longer. */
    static final long NOTED_GAP_NANOS = 1_000_000;

    /** Runs until stopped, however fast (a load that ended by itself would look like a stall to {@link #maxGap}). */
    @Override
    public void run() {
        long prev = System.nanoTime();
        for (int i = 0; !stop.get(); i++) {
            boolean write = (i & 1) == 0;
            long sector = 8L * (i % 64);
            guest.request(0, write ? VirtioBlk.T_OUT : VirtioBlk.T_IN, sector, 16, 4096, 1, !write);
            if (guest.kickAndWait(0).status() != VirtioBlk.S_OK) {
                failed.incrementAndGet();
            }
            long now = System.nanoTime();
            if (now - prev > NOTED_GAP_NANOS && gaps < gapStarts.length) {
                gapStarts[gaps] = prev;
                gapEnds[gaps] = now;
                gaps = gaps + 1;
            }
            prev = now;
            lastCompletion = now;
            count = i + 1;
        }
    }

    public void stop() {
        stop.set(true);
    }

    /** Stops the load and waits for its thread (each request ends within the driver's bound). */
    @Override
    public void close() throws InterruptedException {
        stop();
        if (thread != null) {
            thread.join(20_000);
        }
    }

    public int failed() {
        return failed.get();
    }

    public int completed() {
        return count;
    }

    /**
     * The longest stretch of {@code from}..{@code to} (System.nanoTime) without a completion, to within
     * {@link #NOTED_GAP_NANOS}: the noted gaps cut to the window, and the time after the last completion.
     */
    public long maxGap(long from, long to) {
        long max = 0;
        for (int i = 0; i < gaps; i++) {
            max = Math.max(max, Math.min(gapEnds[i], to) - Math.max(gapStarts[i], from));
        }
        return Math.max(max, to - Math.max(lastCompletion, from));
    }
}
