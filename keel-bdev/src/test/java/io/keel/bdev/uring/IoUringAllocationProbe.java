package io.keel.bdev.uring;

import io.keel.core.testing.C1Jvm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

/**
 * Run by {@link IoUringNoAllocationTest} in a C1-only JVM ({@link C1Jvm}): 4 KiB reads at queue depth 32 through
 * prepare, submit (io_uring_enter) and reap, warmed up, then the bytes the thread allocated over a measured stretch.
 * Argument: a directory for the file. Exits 2 when io_uring is unavailable here.
 */
public final class IoUringAllocationProbe {
    private static final int QD = 32;
    private static final int BLOCK = 4096;
    private static final int FILE_BLOCKS = 256;
    private static final int WARM_UP = 30_000;
    private static final int MEASURED = 20_000;

    private IoUringAllocationProbe() {
    }

    public static void main(String[] args) throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        IoUring opened;
        try {
            opened = IoUring.open(QD);
        } catch (IoUringUnavailableException e) {
            System.out.println("io_uring unavailable: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (Arena arena = Arena.ofConfined();
             NativeFile f = NativeFile.create(Path.of(args[0]).resolve("alloc.dat"), (long) FILE_BLOCKS * BLOCK, false);
             IoUring ring = opened) {
            MemorySegment all = IoBuffers.allocate(arena, (long) QD * BLOCK);
            MemorySegment[] bufs = new MemorySegment[QD];
            for (int i = 0; i < QD; i++) {
                bufs[i] = all.asSlice((long) i * BLOCK, BLOCK);
            }
            FullReadCounter c = new FullReadCounter(BLOCK);
            run(ring, f.fd(), bufs, c, WARM_UP); // C1 compiles the path (nothing is scalar-replaced after)
            long before = threads.getCurrentThreadAllocatedBytes();
            long ios = run(ring, f.fd(), bufs, c, MEASURED);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (c.failed > 0) {
                System.out.println(c.failed + " reads failed");
                System.exit(1);
            }
            C1Jvm.report(allocated, ios);
        }
    }

    private static long run(IoUring ring, int fd, MemorySegment[] bufs, FullReadCounter c, long ios) {
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
