package io.keel.app.perf;

import io.keel.app.bdevperf.Workload;
import io.keel.nvme.host.TransportId;
import java.util.EnumSet;
import java.util.Set;

/**
 * What {@code keel perf} runs: the controller, one I/O queue (and thread) per entry of {@code cores}, the
 * workload and its shape, the digests and the keep-alive timeout.
 */
record PerfOptions(TransportId trid, int[] cores, int nsid, int queueDepth, int ioSize, Workload workload,
        int readPercent, double seconds, boolean headerDigest, boolean dataDigest, String hostNqn, int keepAliveMs,
        long seed, boolean check) {
    static final Set<Workload> SUPPORTED = EnumSet.of(Workload.READ, Workload.WRITE, Workload.RANDREAD,
            Workload.RANDWRITE, Workload.RW, Workload.RANDRW);

    PerfOptions {
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
        if (queueDepth < 1) {
            throw new IllegalArgumentException("-q must be at least 1");
        }
        if (ioSize < 1) {
            throw new IllegalArgumentException("-o must be at least 1 byte");
        }
        if (!(seconds > 0) || seconds > 86_400) {
            throw new IllegalArgumentException("-t must be above 0 seconds");
        }
        if (cores.length < 1) {
            throw new IllegalArgumentException("at least one core (I/O queue) is needed");
        }
        if (nsid < 1) {
            throw new IllegalArgumentException("-n must be a namespace ID from 1");
        }
    }
}
