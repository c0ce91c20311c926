package io.keel.vhost.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Popping, walking (direct and indirect), completing and calling allocate nothing per request once warm. */
class VirtqueueNoAllocationTest {
    private static final int ROUNDS = 10_000;

    @Test
    void theDataPathAllocatesNothingPerRequest() throws Exception {
        long features = VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX) | VirtioFeatures.bit(VirtioFeatures.RING_INDIRECT_DESC);
        try (RingFixture f = new RingFixture(features)) {
            int callFd = EventFd.create(0, EventFd.EFD_NONBLOCK, f.cs);
            f.queue.callFd(callFd);
            long table = RingFixture.DATA + 0x8000;
            f.driver.descAt(table, RingFixture.DATA, 16, SplitRing.DESC_F_NEXT, 1)
                    .descAt(table + 16, RingFixture.DATA + 0x1000, 4096, SplitRing.DESC_F_WRITE | SplitRing.DESC_F_NEXT, 2)
                    .descAt(table + 32, RingFixture.DATA + 0x3000, 1, SplitRing.DESC_F_WRITE, 0);
            f.driver.desc(1, RingFixture.DATA, 16, SplitRing.DESC_F_NEXT, 2).desc(2, RingFixture.DATA + 0x1000, 4096,
                    SplitRing.DESC_F_WRITE, 0);
            f.driver.desc(0, table, 48, SplitRing.DESC_F_INDIRECT, 0);
            VirtqueueHandler completeAtOnce = (q, r) -> r.complete((byte) 0, (int) r.writableBytes());
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

            // the FFM downcall (the call eventfd) allocates until the JIT compiled it: measure windows until one is warm
            long allocated = Long.MAX_VALUE;
            for (int window = 0; window < 20 && allocated > 0; window++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                run(f, completeAtOnce, ROUNDS);
                allocated = mx.getCurrentThreadAllocatedBytes() - before;
            }

            assertThat(allocated).as("bytes allocated over %d requests once warm", 2 * ROUNDS).isZero();
            assertThat(f.queue.calls()).isPositive();
            Libc.closeQuietly(callFd);
        }
    }

    private static void run(RingFixture f, VirtqueueHandler handler, int rounds) {
        for (int i = 0; i < rounds; i++) {
            f.driver.makeAvailable(0);
            f.driver.makeAvailable(1);
            f.driver.usedEvent(f.driver.usedIdx()); // call me at the next completion
            f.queue.poll(handler, 8);
            f.queue.signalIfNeeded();
        }
    }
}
