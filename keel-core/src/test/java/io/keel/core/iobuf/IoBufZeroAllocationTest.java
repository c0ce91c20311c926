package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Section 5: the hot path allocates nothing. Measured on the reactor thread itself with
 * {@code ThreadMXBean.getCurrentThreadAllocatedBytes} over 100k get/put pairs after warm-up, for each way a
 * get is served: from the cache, from the global pool, and by handing a freed buffer to a queued waiter.
 */
class IoBufZeroAllocationTest {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int PAIRS = 100_000;
    /** Slack for the measurement itself; one allocation per pair would be >= 1.6 MB. */
    private static final long SLACK_BYTES = 1024;

    /** A reusable waiter that keeps the buffer it is given. */
    private static final class Slot extends IoBufWaiter {
        MemorySegment buf;

        @Override
        public void bufferReady(MemorySegment b) {
            buf = b;
        }
    }

    private static long cachePath(IoBufChannel ch, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            MemorySegment b = ch.get(4096, null);
            sum += b.address();
            ch.put(b);
        }
        return sum;
    }

    private static long waiterPath(IoBufChannel ch, MemorySegment held, Slot slot, int n) {
        // the pool is empty: every get queues the waiter, every put hands the buffer straight to it
        long sum = 0;
        MemorySegment b = held;
        for (int i = 0; i < n; i++) {
            if (ch.get(4096, slot) != null) {
                throw new AssertionError("the pool should be empty");
            }
            ch.put(b);
            b = slot.buf;
            sum += b.address();
        }
        slot.buf = null;
        return sum + (b == held ? 0 : 1);
    }

    private static long measure(Runnable r) {
        long before = MX.getCurrentThreadAllocatedBytes();
        r.run();
        return MX.getCurrentThreadAllocatedBytes() - before;
    }

    @Test
    void getAndPutAllocateNothingInSteadyState() {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), true).withWatchdogMillis(0))) {
            // no watchdog: the measured loops run 900k operations inside one message on purpose
            KeelThread t = rt.createThread("io0");
            long[] allocated = OnThread.call(t, () -> {
                IoBuf iobuf = IoBuf.create(new IoBufOptions(1, 1, 4096, 8192, false));
                IoBufChannel cached = iobuf.channel("cached", 128, 16);
                IoBufChannel uncached = iobuf.channel("uncached", 0, 0);
                Slot slot = new Slot();
                long[] out = new long[3];
                for (int round = 0; round < 3; round++) { // warm-up rounds, then the measured one counts
                    out[0] = measure(() -> cachePath(cached, PAIRS));
                    // cached now holds the single small buffer: give it back so the pool path sees it
                    MemorySegment b = cached.get(1, null);
                    uncached.put(b);
                    out[1] = measure(() -> cachePath(uncached, PAIRS)); // cache size 0: the global pool every time
                    MemorySegment held = uncached.get(1, null);
                    out[2] = measure(() -> waiterPath(uncached, held, slot, PAIRS));
                    uncached.put(held);
                }
                cached.close();
                uncached.close();
                iobuf.finish(() -> { });
                return out;
            });
            assertThat(allocated[0]).as("bytes allocated by %d get/put pairs from the cache", PAIRS).isLessThan(SLACK_BYTES);
            assertThat(allocated[1]).as("bytes allocated by %d get/put pairs from the global pool", PAIRS).isLessThan(SLACK_BYTES);
            assertThat(allocated[2]).as("bytes allocated by %d get/queue/put/hand-over cycles", PAIRS).isLessThan(SLACK_BYTES);
        }
    }
}
