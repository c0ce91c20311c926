package io.keel.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The machine's memory copy bandwidth on one thread: copies one off-heap buffer to another (MemorySegment.copy, a
 * memcpy) for a few seconds and prints MiB/s — the ceiling for a rebuild that copies between two malloc bdevs.
 * Usage: MemcpyBandwidth [MiB per copy=256] [seconds=3]
 */
public final class MemcpyBandwidth {
    private MemcpyBandwidth() {
    }

    public static void main(String[] args) {
        long bytes = (args.length > 0 ? Long.parseLong(args[0]) : 256) << 20;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment from = arena.allocate(bytes, 4096);
            MemorySegment to = arena.allocate(bytes, 4096);
            from.fill((byte) 1);
            to.fill((byte) 2); // both touched: no page faults in the timed copies
            MemorySegment.copy(from, 0, to, 0, bytes); // warm-up
            long copied = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long now;
            do {
                MemorySegment.copy(from, 0, to, 0, bytes);
                copied += bytes;
                now = System.nanoTime();
            } while (now < end);
            double mibPerSecond = copied / (double) (1 << 20) / ((now - start) / 1e9);
            System.out.printf("memcpy of %d MiB buffers on one thread: %.0f MiB/s%n", bytes >> 20, mibPerSecond);
        }
    }
}
