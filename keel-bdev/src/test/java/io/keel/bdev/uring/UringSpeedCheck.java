package io.keel.bdev.uring;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Not a test: a quick speed check of {@link IoUring}. 4 KiB random reads at queue depth 128 on a 256 MiB file,
 * one thread, busy polling, for 3 s buffered (page cache) and 3 s with O_DIRECT; prints IOPS, MiB/s, system
 * calls per I/O and heap bytes allocated per I/O.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp keel-bdev/target/classes:keel-bdev/target/test-classes \
 *     io.keel.bdev.uring.UringSpeedCheck [file] [seconds] [qd] [file MiB]
 * </pre>
 *
 * The file defaults to target/uring-speed-check.dat (created, filled, deleted afterwards).
 */
public final class UringSpeedCheck {
    private static final int BLOCK = 4096;
    private static final long DEFAULT_FILE_MIB = 256;

    private UringSpeedCheck() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args.length > 0 ? args[0]
                : Files.isDirectory(Path.of("target")) ? "target/uring-speed-check.dat" : "/var/tmp/uring-speed-check.dat");
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3.0;
        int qd = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        long fileSize = (args.length > 3 ? Long.parseLong(args[3]) : DEFAULT_FILE_MIB) << 20;
        boolean created = !Files.exists(file);
        try {
            if (created || Files.size(file) != fileSize) {
                fill(file, fileSize);
            }
            System.out.printf(Locale.ROOT, "file %s, %d MiB, 4 KiB random reads, QD %d, %.1f s per mode, one thread%n",
                    file, fileSize >> 20, qd, seconds);
            for (boolean direct : new boolean[] {false, true}) {
                try (NativeFile f = NativeFile.open(file, false, direct)) {
                    run(f, qd, Math.min(0.5, seconds), null); // warm-up: JIT, page cache
                    run(f, qd, seconds, f.toString());
                }
            }
        } finally {
            if (created) {
                Files.deleteIfExists(file);
            }
        }
    }

    private static void fill(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            long x = 0x9E3779B97F4A7C15L;
            while (chunk.remaining() >= 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                chunk.putLong(x);
            }
            for (long off = 0; off < size; off += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    ch.write(chunk, off + chunk.position());
                }
            }
            ch.force(true);
        }
    }

    private static void run(NativeFile f, int qd, double seconds, String label) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long blocks = f.size() / BLOCK;
        try (Arena arena = Arena.ofConfined(); IoUring ring = IoUring.open(qd)) {
            MemorySegment all = IoBuffers.allocate(arena, (long) qd * BLOCK);
            MemorySegment[] bufs = new MemorySegment[qd];
            for (int i = 0; i < qd; i++) {
                bufs[i] = all.asSlice((long) i * BLOCK, BLOCK);
            }
            int[] freeSlots = new int[qd];
            for (int i = 0; i < qd; i++) {
                freeSlots[i] = i;
            }
            int[] freeTop = {qd};
            FullReadCounter c = new FullReadCounter(BLOCK);
            // the handler returns the slot (user data) to the free list
            CompletionHandler h = (userData, res) -> {
                c.complete(userData, res);
                freeSlots[freeTop[0]++] = (int) userData;
            };
            long seed = System.nanoTime() | 1;
            long enters = 0;
            long allocBefore = threads.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long now = start;
            int loops = 0;
            while (now < end) {
                while (freeTop[0] > 0) {
                    int slot = freeSlots[--freeTop[0]];
                    seed ^= seed << 13;
                    seed ^= seed >>> 7;
                    seed ^= seed << 17;
                    long block = Long.remainderUnsigned(seed, blocks);
                    if (!ring.prepareRead(f.fd(), bufs[slot], BLOCK, block * BLOCK, slot)) {
                        freeTop[0]++;
                        break;
                    }
                }
                if (ring.queued() > 0) {
                    ring.submit();
                    enters++;
                }
                if (ring.reap(h, qd) == 0) {
                    Thread.onSpinWait();
                }
                if ((++loops & 63) == 0) {
                    now = System.nanoTime();
                }
            }
            long elapsed = System.nanoTime() - start;
            long alloc = threads.getCurrentThreadAllocatedBytes() - allocBefore;
            // drain before closing the ring
            while (ring.inFlight() > 0) {
                ring.submitAndWait(ring.inFlight());
                ring.reap(h, qd);
            }
            if (label != null) {
                double secs = elapsed / 1e9;
                double iops = c.done / secs;
                System.out.printf(Locale.ROOT,
                        "%-9s %,12.0f IOPS  %8.1f MiB/s  %,d I/Os in %.2f s  %.3f io_uring_enter/I/O  %.2f B allocated/I/O"
                                + "  failed=%d%s%n  (%s)%n",
                        f.isDirect() ? "O_DIRECT" : "buffered", iops, iops * BLOCK / (1 << 20), c.done, secs,
                        (double) enters / c.done, (double) alloc / c.done, c.failed,
                        c.failed > 0 ? " last " + Errno.describe(c.lastError) : "", label);
            }
        }
    }
}
