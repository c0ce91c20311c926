package io.keel.bdev.exec;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request executor allocates nothing per request (DESIGN section 5): after warm-up, a round of reads, vectored
 * reads, writes, writes of pieces of a segment and two-range unmaps at queue depth {@link #QD} on a malloc bdev leaves the reactors' allocation
 * counters where they were — also when the bdev_io pool is smaller than the queue, so requests wait and are
 * re-driven all the time. The bound is the one malloc alone is held to (VbdevNoAllocationTest): well under a byte
 * per request.
 */
class RequestExecutorNoAllocationTest {
    static final int QD = 32;
    static final long ROUND = 20_000;
    static final int BLOCK = 512;

    @TempDir
    Path dir;

    @Test
    void requestsAllocateNothing() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            assertThat(bytesPerRound(t, false)).as("bytes the reactors allocated over %d requests", ROUND)
                    .isLessThan(4096);
        }
    }

    @Test
    void requestsWaitingForABdevIoAllocateNothing() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir, Map.of("bdev_set_options", params("bdev_io_pool_size", 8,
                "bdev_io_cache_size", 2)))) {
            assertThat(bytesPerRound(t, true)).as("bytes the reactors allocated over %d requests", ROUND)
                    .isLessThan(4096);
        }
    }

    /** Warms up until the JIT has compiled the path, then the best of three rounds; checks whether requests waited. */
    static long bytesPerRound(BdevTestApp t, boolean waits) {
        var mx = ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean m ? m : null;
        Assumptions.assumeTrue(mx != null && mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter");
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", BLOCK, "num_blocks", QD * 8));
        KeelThread w = t.thread("w", 1);
        Driver d = BdevTestApp.on(w, () -> new Driver(t.layer().open("Malloc0", true, (e, b) -> { })));
        long[] reactors = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th instanceof KeelThread.Carrier).mapToLong(Thread::threadId).toArray();
        try {
            long last = Long.MAX_VALUE;
            for (int round = 0; round < 40 && last > 4096; round++) {
                last = round(w, d, mx, reactors);
            }
            long best = Math.min(round(w, d, mx, reactors), Math.min(round(w, d, mx, reactors),
                    round(w, d, mx, reactors)));
            assertThat(d.failed).isZero();
            assertThat(BdevTestApp.on(w, d.ex::ioWaits) > 0).as("requests waited for a bdev_io").isEqualTo(waits);
            return best;
        } finally {
            BdevTestApp.on(w, () -> {
                d.close();
                return null;
            });
        }
    }

    private static long round(KeelThread w, Driver d, com.sun.management.ThreadMXBean mx, long[] reactors) {
        long before = sum(mx.getThreadAllocatedBytes(reactors));
        long start = d.done;
        w.send(() -> d.run(ROUND));
        await().atMost(Duration.ofSeconds(30)).until(() -> d.done - start >= ROUND);
        return sum(mx.getThreadAllocatedBytes(reactors)) - before;
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    /** A transport's request: its queue slot's buffers and range table, made once. */
    static final class Request {
        final long firstBlock;
        final MemorySegment buf;
        final MemorySegment[] halves;
        final MemorySegment[] bases;
        final long[] offsets = {0, 100, 300};
        final long[] lengths = {100, 200, BLOCK - 300};
        final MemorySegment ranges;

        Request(int slot, Arena arena) {
            firstBlock = slot * 8L;
            buf = arena.allocate(2 * BLOCK, 64);
            halves = new MemorySegment[] {buf.asSlice(0, BLOCK), buf.asSlice(BLOCK, BLOCK)};
            bases = new MemorySegment[] {buf, buf, buf};
            ranges = PairRanges.table(firstBlock + 4, 1, firstBlock + 6, 2);
        }
    }

    /** Keeps {@link #QD} requests in flight on its thread, each resubmitted from its own end; allocates nothing. */
    static final class Driver implements RequestDone<Request> {
        private final Arena arena = Arena.ofShared();
        private final BdevDesc desc;
        private final IoChannel<BdevChannel> channel;
        private final RequestExecutor<Request> ex;
        private final Request[] requests = new Request[QD];
        private long target;
        private long issued;
        volatile long done;
        volatile long failed;

        Driver(BdevDesc desc) {
            this.desc = desc;
            this.channel = desc.getIoChannel();
            this.ex = new RequestExecutor<>("alloc_test", QD, this);
            for (int i = 0; i < QD; i++) {
                requests[i] = new Request(i, arena);
            }
        }

        void run(long n) {
            target = issued + n;
            for (int i = 0; i < QD && issued < target; i++) {
                submit(requests[i]);
            }
        }

        private void submit(Request r) {
            BdevChannel ch = channel.context();
            switch ((int) (issued++ % 5)) {
                case 0 -> ex.read(r, desc, ch, r.buf, r.firstBlock, 1); // a buffer larger than the I/O
                case 1 -> ex.readv(r, desc, ch, r.halves, 2, r.firstBlock, 2);
                case 2 -> ex.write(r, desc, ch, r.buf, r.firstBlock, 2);
                case 3 -> ex.writev(r, desc, ch, r.bases, r.offsets, r.lengths, 0, 3, r.firstBlock, 1);
                default -> ex.unmap(r, desc, ch, r.ranges, 2, PairRanges.FORMAT);
            }
        }

        @Override
        public void requestDone(Request r, RequestStatus status, int detail) {
            if (status != RequestStatus.SUCCESS) {
                failed++;
            }
            done++;
            if (issued < target) {
                submit(r);
            }
        }

        void close() {
            channel.put();
            desc.close();
        }
    }
}
