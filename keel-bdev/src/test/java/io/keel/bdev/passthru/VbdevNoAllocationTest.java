package io.keel.bdev.passthru;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three virtual bdevs allocate nothing per I/O (DESIGN section 5): after warm-up, a round of reads and
 * writes at queue depth 32 through passthru, error (no injection armed) and delay (zero latency, so every I/O
 * goes through the hold queue and its pollers) leaves the reactors' allocation counters where they were. Malloc
 * alone is measured first, as the baseline under them.
 *
 * <p>Delay is allowed 4 bytes per I/O, a quarter of the smallest object: because it completes on a later poll, the
 * malloc completion poller under it really pauses between batches, and keel-core's poller compaction
 * ({@code KeelThread.compact}: {@code ArrayList.subList(..).clear()}) allocates a 32-byte SubList each time
 * (measured: about 1 byte per I/O). That is the thread's, not the delay bdev's.
 */
class VbdevNoAllocationTest {
    private static final int QD = 32;
    private static final int BLOCK = 512;
    private static final long ROUND = 20_000;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        for (String m : new String[] {"Malloc0", "Malloc1", "Malloc2", "Malloc3"}) {
            h.malloc(m, 1024, BLOCK);
        }
        h.result("bdev_passthru_create", Map.of("name", "PT0", "base_bdev_name", "Malloc0"));
        h.result("bdev_error_create", Map.of("base_name", "Malloc1"));
        h.result("bdev_delay_create", Map.of("name", "Delay0", "base_bdev_name", "Malloc2", "avg_read_latency", 0,
                "p99_read_latency", 0, "avg_write_latency", 0, "p99_write_latency", 0));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    /** Keeps {@link #QD} reads and writes in flight on the worker thread; its callback allocates nothing. */
    private static final class Driver implements BdevIoCallback {
        private final BdevDesc desc;
        private final IoChannel<BdevChannel> ch;
        private final MemorySegment[] bufs = new MemorySegment[QD];
        private long target;
        private long issued;
        volatile long done;
        volatile long failed;

        Driver(BdevDesc desc, VbdevHarness h) {
            this.desc = desc;
            this.ch = desc.getIoChannel();
            for (int i = 0; i < QD; i++) {
                bufs[i] = h.pattern(BLOCK, i);
            }
        }

        void run(long ios) {
            target = issued + ios;
            for (int slot = 0; slot < QD && issued < target; slot++) {
                submit(slot);
            }
        }

        private void submit(int slot) {
            Integer arg = slot; // cached box: no allocation
            int rc = (issued & 1) == 0
                    ? desc.write(ch.context(), bufs[slot], slot, 1, this, arg)
                    : desc.read(ch.context(), bufs[slot], slot, 1, this, arg);
            issued++;
            if (rc != 0) {
                failed++;
                done++;
            }
        }

        @Override
        public void done(BdevIo io, boolean success, Object arg) {
            io.free();
            if (!success) {
                failed++;
            }
            done++;
            if (issued < target) {
                submit((Integer) arg);
            }
        }

        void close() {
            ch.put();
            desc.close();
        }
    }

    @Test
    void passthruErrorAndDelayAllocateNothingPerIo() {
        com.sun.management.ThreadMXBean mx =
                ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t ? t : null;
        Assumptions.assumeTrue(mx != null && mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter");
        long[] reactors = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t instanceof KeelThread.Carrier).mapToLong(Thread::threadId).toArray();
        assertThat(reactors).hasSize(2);
        for (String name : new String[] {"Malloc3", "PT0", "EE_Malloc1", "Delay0"}) {
            Driver d = h.onWorker(() -> new Driver(h.layer().open(name, true, (e, b) -> { }), h));
            try {
                long last = Long.MAX_VALUE;
                for (int round = 0; round < 40 && last > 4096; round++) { // until the JIT has compiled the path
                    last = round(mx, reactors, d);
                }
                // best of three: a per-I/O allocation shows in every round (>= 16 B x ROUND), a late JIT step in one
                long allocated = Math.min(round(mx, reactors, d), Math.min(round(mx, reactors, d), round(mx, reactors, d)));
                assertThat(d.failed).isZero();
                assertThat(allocated).as("bytes the reactors allocated over %d I/Os through %s", ROUND, name)
                        .isLessThan(name.equals("Delay0") ? 4 * ROUND : 4096);
            } finally {
                h.onWorker(() -> {
                    d.close();
                    return null;
                });
            }
        }
    }

    private long round(com.sun.management.ThreadMXBean mx, long[] reactors, Driver d) {
        long before = sum(mx.getThreadAllocatedBytes(reactors));
        long start = d.done;
        h.worker.send(() -> d.run(ROUND));
        await().atMost(VbdevHarness.WAIT).until(() -> d.done - start >= ROUND);
        return sum(mx.getThreadAllocatedBytes(reactors)) - before;
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }
}
