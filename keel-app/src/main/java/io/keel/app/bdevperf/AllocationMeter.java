package io.keel.app.bdevperf;

import java.lang.management.ManagementFactory;
import java.util.Comparator;
import java.util.List;

/**
 * Bytes allocated on the reactors' OS threads ({@code reactor_N}), through
 * {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long[])}: everything that runs there counts (the
 * jobs, the bdev layer and modules, the reactor loop, the application thread), so bytes per I/O over a window
 * in steady state is the hot path's allocation.
 */
final class AllocationMeter {
    private final com.sun.management.ThreadMXBean mx;
    private final List<Thread> reactors;
    private final long[] ids;

    private AllocationMeter(com.sun.management.ThreadMXBean mx, List<Thread> reactors) {
        this.mx = mx;
        this.reactors = reactors;
        this.ids = reactors.stream().mapToLong(Thread::threadId).toArray();
    }

    /** A meter over the live threads named {@code reactor_N} for the given cores; null if the JVM cannot measure. */
    static AllocationMeter forReactors(int[] cores) {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx)
                || !mx.isThreadAllocatedMemorySupported()) {
            return null;
        }
        if (!mx.isThreadAllocatedMemoryEnabled()) {
            mx.setThreadAllocatedMemoryEnabled(true);
        }
        List<String> names = java.util.Arrays.stream(cores).mapToObj(c -> "reactor_" + c).toList();
        List<Thread> found = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> names.contains(t.getName()))
                .sorted(Comparator.comparing(Thread::getName))
                .toList();
        return found.isEmpty() ? null : new AllocationMeter(mx, found);
    }

    /** Bytes allocated so far by all the reactor threads together. */
    long allocatedBytes() {
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(ids)) {
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }

    List<String> threadNames() {
        return reactors.stream().map(Thread::getName).toList();
    }
}
