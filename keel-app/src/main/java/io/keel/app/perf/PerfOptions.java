package io.keel.app.perf;

import io.keel.app.bdevperf.Workload;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code keel perf} runs: the controllers ({@code -r}, each with the namespace it names or 0 for all of
 * its active ones), one reactor and worker per entry of {@code cores} (pinned when {@code -c} chose them), the
 * workload and its shape, the digests, the keep-alive timeout, and how much latency detail to print
 * ({@code -L}: 0, 1 or 2).
 */
record PerfOptions(List<PerfTarget> targets, int[] cores, boolean pin, boolean interruptMode, int queueDepth,
        int ioSize, Workload workload, int readPercent, double seconds, boolean headerDigest, boolean dataDigest,
        String hostNqn, int keepAliveMs, long seed, boolean check, int latencyLevel) {
    static final Set<Workload> SUPPORTED = EnumSet.of(Workload.READ, Workload.WRITE, Workload.RANDREAD,
            Workload.RANDWRITE, Workload.RW, Workload.RANDRW);

    PerfOptions {
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("at least one -r is needed");
        }
        if (!SUPPORTED.contains(workload)) {
            throw new IllegalArgumentException("workload " + workload + " is not one of read, write, randread, "
                    + "randwrite, rw, randrw");
        }
        if (workload.mixed() && (readPercent < 0 || readPercent > 100)) {
            throw new IllegalArgumentException("-M (read percentage 0..100) is required for " + workload);
        }
        if (!workload.mixed()) {
            readPercent = workload.readOnly() ? 100 : 0;
        }
        if (queueDepth < 1 || queueDepth > 65535) {
            throw new IllegalArgumentException("-q must be from 1 to 65535");
        }
        if (ioSize < 1) {
            throw new IllegalArgumentException("-o must be at least 1 byte");
        }
        if (!(seconds > 0) || seconds > 86_400) {
            throw new IllegalArgumentException("-t must be above 0 seconds");
        }
        if (cores.length < 1) {
            throw new IllegalArgumentException("at least one core is needed");
        }
        if (keepAliveMs < 0) {
            throw new IllegalArgumentException("-k must be 0 (off) or more milliseconds");
        }
        if (latencyLevel < 0 || latencyLevel > 2) {
            throw new IllegalArgumentException("-L may be given once (summary) or twice (-LL, histogram)");
        }
    }
}
