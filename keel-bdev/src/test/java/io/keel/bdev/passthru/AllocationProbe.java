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
import org.junit.jupiter.api.Assumptions;

/**
 * Measures what the reactors allocate while a bdev serves I/O (DESIGN section 5): reads and writes at queue depth
 * {@link #QD} from the harness's worker thread, whose callback allocates nothing, in rounds of {@link #ROUND} I/Os;
 * warmed up until the JIT has compiled the path, then the best of three rounds.
 */
public final class AllocationProbe {
    public static final long ROUND = 20_000;
    private static final int QD = 32;

    private final VbdevHarness h;
    private final com.sun.management.ThreadMXBean mx;
    private final long[] reactors;

    public AllocationProbe(VbdevHarness h) {
        this.h = h;
        this.mx = ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t ? t : null;
        Assumptions.assumeTrue(mx != null && mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter");
        this.reactors = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t instanceof KeelThread.Carrier).mapToLong(Thread::threadId).toArray();
        assertThat(reactors).isNotEmpty(); // this application's two, and any another test's left behind
    }

    /**
     * Bytes the reactors allocated over a round of I/Os of {@code blocksPerIo} blocks through {@code bdev}, the
     * I/O of queue slot {@code s} at block {@code firstBlock + s * blocksPerIo}; asserts that none failed.
     */
    public long bytesPerRound(String bdev, int blocksPerIo, long firstBlock) {
        return bytesPerRound(bdev, blocksPerIo, firstBlock, 4096);
    }

    /**
     * As {@link #bytesPerRound(String, int, long)}, warming up until a round allocates at most {@code warm} bytes (a
     * bdev whose I/O wakes reactors through fds in interrupt mode carries some bytes per round that do not grow with
     * the I/O count).
     */
    public long bytesPerRound(String bdev, int blocksPerIo, long firstBlock, long warm) {
        Driver d = h.onWorker(() -> new Driver(h.layer().open(bdev, true, (e, b) -> { }), h, blocksPerIo,
                firstBlock));
        try {
            long last = Long.MAX_VALUE;
            for (int round = 0; round < 40 && last > warm; round++) { // until the JIT has compiled the path
                last = round(d);
            }
            // best of three: a per-I/O allocation shows in every round (>= 16 B x ROUND), a late JIT step in one
            long allocated = Math.min(round(d), Math.min(round(d), round(d)));
            assertThat(d.failed).isZero();
            return allocated;
        } finally {
            h.onWorker(() -> {
                d.close();
                return null;
            });
        }
    }

    private long round(Driver d) {
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

    /** Keeps {@link #QD} reads and writes in flight on the worker thread; its callback allocates nothing. */
    private static final class Driver implements BdevIoCallback {
        private final BdevDesc desc;
        private final IoChannel<BdevChannel> ch;
        private final MemorySegment[] bufs = new MemorySegment[QD];
        private final int blocksPerIo;
        private final long firstBlock;
        private long target;
        private long issued;
        volatile long done;
        volatile long failed;

        Driver(BdevDesc desc, VbdevHarness h, int blocksPerIo, long firstBlock) {
            this.desc = desc;
            this.ch = desc.getIoChannel();
            this.blocksPerIo = blocksPerIo;
            this.firstBlock = firstBlock;
            for (int i = 0; i < QD; i++) {
                bufs[i] = h.pattern((long) blocksPerIo * desc.bdev().blockSize(), i);
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
                    ? desc.write(ch.context(), bufs[slot], offset(slot), blocksPerIo, this, arg)
                    : desc.read(ch.context(), bufs[slot], offset(slot), blocksPerIo, this, arg);
            issued++;
            if (rc != 0) {
                failed++;
                done++;
            }
        }

        private long offset(int slot) {
            return firstBlock + (long) slot * blocksPerIo;
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

}
