package io.keel.vhost.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Interrupt coalescing with simulated time: below the rate threshold every batch of completions calls the driver
 * at once; above it, calls are spaced by the delay the rate sets, a held-back call is delivered once that delay
 * has passed, and the rate falling again ends the spacing.
 */
class VirtqueueCoalescingTest {
    private static final long MS = 1_000_000L;
    private RingFixture f;
    private int callFd;
    private MemorySegment count;
    private int nextHead;

    @BeforeEach
    void start() {
        f = new RingFixture(0);
        callFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, f.cs);
        count = f.arena.allocate(8, 8);
        f.queue.callFd(callFd);
        // 1 ms base delay above 1000 IOPS: 10 requests per 10 ms interval
        f.queue.coalescing(MS, 1000);
    }

    @AfterEach
    void close() {
        f.close();
        Libc.closeQuietly(callFd);
    }

    private long calls() {
        long n = EventFd.read(callFd, count, f.cs);
        return n < 0 ? 0 : n;
    }

    /** The driver makes {@code n} requests available; the device takes and completes them. */
    private void complete(int n) {
        for (int i = 0; i < n; i++) {
            int head = nextHead++ % RingFixture.SIZE;
            f.driver.desc(head, RingFixture.DATA + head * 0x100L, 16, SplitRing.DESC_F_WRITE, 0);
            f.driver.makeAvailable(head);
        }
        f.poll();
        for (VirtqueueRequest r : f.received) {
            r.complete((byte) 0, 1);
        }
        f.received.clear();
    }

    @Test
    void callsAreSpacedOnlyAboveTheThreshold() {
        long now = 100 * MS;
        complete(5);
        assertThat(f.queue.signalIfDue(now)).as("below the threshold: at once").isEqualTo(1);
        assertThat(calls()).isEqualTo(1);

        // 45 requests in this interval: 4.5x the threshold, so a delay of 1 ms * 35 / 10 = 3.5 ms once measured
        for (int i = 0; i < 3; i++) {
            complete(15);
            f.queue.signalIfDue(now + MS);
        }
        calls();
        complete(1);
        now += 10 * MS;
        assertThat(f.queue.signalIfDue(now)).as("the first call after measuring goes").isEqualTo(1);
        complete(1);
        assertThat(f.queue.signalIfDue(now + MS)).as("held back within the delay").isZero();
        assertThat(f.queue.callHeldBack()).isTrue();
        assertThat(f.queue.signalIfDue(now + 4 * MS)).as("delivered once the delay passed").isEqualTo(1);
        assertThat(f.queue.callHeldBack()).isFalse();

        // a quiet interval ends the spacing
        now += 20 * MS;
        complete(1);
        assertThat(f.queue.signalIfDue(now)).isEqualTo(1);
        complete(1);
        assertThat(f.queue.signalIfDue(now + 1)).isEqualTo(1);
    }
}
