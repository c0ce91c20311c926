package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.openRing;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data path allocates nothing per I/O: once compiled, tens of thousands of prepare/submit/reap rounds of
 * 4 KiB reads leave the thread's allocation counter where it was (DESIGN section 5).
 */
class IoUringNoAllocationTest {
    private static final int QD = 32;
    private static final int BLOCK = 4096;
    private static final int FILE_BLOCKS = 256;
    private static final int ROUND = 10_000;

    @TempDir
    Path tmp;

    /** Allocation-free handler: counts and checks results in fields. */
    private static final class Counter implements CompletionHandler {
        long done;
        long failed;

        @Override
        public void complete(long userData, int res) {
            done++;
            if (res != BLOCK) {
                failed++;
            }
        }
    }

    @Test
    void preparingSubmittingAndReapingAllocatesNothing() throws IOException {
        com.sun.management.ThreadMXBean threads =
                ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t ? t : null;
        Assumptions.assumeTrue(threads != null && threads.isThreadAllocatedMemorySupported(),
                "per-thread allocation counter not available");
        try (Arena arena = Arena.ofConfined();
             NativeFile f = NativeFile.create(tmp.resolve("alloc.dat"), (long) FILE_BLOCKS * BLOCK, false);
             IoUring ring = openRing(QD)) {
            MemorySegment all = IoBuffers.allocate(arena, (long) QD * BLOCK);
            MemorySegment[] bufs = new MemorySegment[QD];
            for (int i = 0; i < QD; i++) {
                bufs[i] = all.asSlice((long) i * BLOCK, BLOCK);
            }
            Counter c = new Counter();
            // Warm up until a round allocates nothing: while the loop is only C1-compiled, the JDK's own downcall
            // stub allocates ~40 bytes per system call; C2's escape analysis removes it.
            long lastRound = Long.MAX_VALUE;
            for (int round = 0; round < 60 && lastRound > 0; round++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                run(ring, f.fd(), bufs, c, ROUND);
                lastRound = threads.getCurrentThreadAllocatedBytes() - before;
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            long ios = run(ring, f.fd(), bufs, c, 3 * ROUND);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(c.failed).isZero();
            assertThat(allocated).as("bytes allocated over %d I/Os after warm-up", ios).isLessThan(256);
        }
    }

    private static long run(IoUring ring, int fd, MemorySegment[] bufs, Counter c, long ios) {
        long start = c.done;
        long issued = 0;
        long seed = 12345;
        while (c.done - start < ios) {
            while (issued < ios && ring.inFlight() + ring.queued() < QD) {
                int slot = (int) (issued % QD);
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                long block = (seed >>> 33) % FILE_BLOCKS;
                if (!ring.prepareRead(fd, bufs[slot], BLOCK, block * BLOCK, slot)) {
                    break;
                }
                issued++;
            }
            ring.submit();
            if (ring.reap(c, QD) == 0) {
                Thread.onSpinWait();
            }
        }
        return c.done - start;
    }
}
