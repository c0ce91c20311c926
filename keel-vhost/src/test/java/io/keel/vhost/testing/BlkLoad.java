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
    private final long[] completions = new long[1 << 20];
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

    @Override
    public void run() {
        for (int i = 0; !stop.get() && i < completions.length; i++) {
            boolean write = (i & 1) == 0;
            long sector = 8L * (i % 64);
            guest.request(0, write ? VirtioBlk.T_OUT : VirtioBlk.T_IN, sector, 16, 4096, 1, !write);
            if (guest.kickAndWait(0).status() != VirtioBlk.S_OK) {
                failed.incrementAndGet();
            }
            completions[i] = System.nanoTime();
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

    /** The longest time between consecutive completions from {@code from} to {@code to} (System.nanoTime). */
    public long maxGap(long from, long to) {
        long max = 0;
        long prev = from;
        for (int i = 0; i < count; i++) {
            long c = completions[i];
            if (c < from) {
                continue;
            }
            max = Math.max(max, Math.min(c, to) - prev);
            prev = c;
            if (c >= to) {
                return max;
            }
        }
        return Math.max(max, to - prev);
    }
}
