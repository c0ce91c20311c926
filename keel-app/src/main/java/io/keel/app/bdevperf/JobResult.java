package io.keel.app.bdevperf;

import org.HdrHistogram.Histogram;

/**
 * What one job (or, for the total, all of them) did. Rates are per second of the job's run time; latencies are
 * in microseconds over successful I/Os.
 *
 * @param name          the bdev (SPDK names jobs by bdev), or "Total"
 * @param core          the job's core (-1 for the total)
 * @param coreMask      the job thread's cpumask, as SPDK prints it ("0x1")
 * @param status        finished, failed, terminated (stopped by a signal) or hung (I/O never completed)
 * @param verifyStart   verify: first I/O-sized unit of the job's range (-1 otherwise)
 * @param verifyLength  verify: I/O-sized units in the range (-1 otherwise)
 * @param ios           I/Os completed successfully (for verify, writes and read-backs both count)
 * @param failed        I/Os that failed, could not be submitted, or (verify) read back wrong data
 * @param timedOut      I/Os outstanding longer than {@code -k}
 * @param miscompares   verify: read-backs that differed from what was written
 * @param resets        reset: bdev resets completed
 * @param ioWaits       submissions that found no bdev_io free (-ENOMEM) and waited for one
 */
public record JobResult(String name, int core, String coreMask, Workload workload, int readPercent, int queueDepth,
        int ioSize, String status, long verifyStart, long verifyLength, double runtimeSeconds, long ios, long failed,
        long timedOut, long miscompares, long resets, long ioWaits, double iops, double mibps, double failedPerSecond,
        double timedOutPerSecond, double avgLatencyUs, double p50LatencyUs, double p99LatencyUs, double p999LatencyUs,
        double minLatencyUs, double maxLatencyUs) {

    static JobResult of(String name, int core, String coreMask, Workload workload, int readPercent, int queueDepth,
            int ioSize, String status, long verifyStart, long verifyLength, double runtimeSeconds, long ios,
            long failed, long timedOut, long miscompares, long resets, long ioWaits, Histogram h) {
        double secs = runtimeSeconds > 0 ? runtimeSeconds : Double.MIN_VALUE;
        double iops = ios / secs;
        boolean any = h.getTotalCount() > 0;
        return new JobResult(name, core, coreMask, workload, readPercent, queueDepth, ioSize, status, verifyStart,
                verifyLength, runtimeSeconds, ios, failed, timedOut, miscompares, resets, ioWaits,
                runtimeSeconds > 0 ? iops : 0,
                runtimeSeconds > 0 ? iops * ioSize / (1024.0 * 1024.0) : 0,
                runtimeSeconds > 0 ? failed / secs : 0, runtimeSeconds > 0 ? timedOut / secs : 0,
                any ? h.getMean() / 1000.0 : 0, any ? h.getValueAtPercentile(50) / 1000.0 : 0,
                any ? h.getValueAtPercentile(99) / 1000.0 : 0, any ? h.getValueAtPercentile(99.9) / 1000.0 : 0,
                any ? h.getMinValue() / 1000.0 : 0, any ? h.getMaxValue() / 1000.0 : 0);
    }

    public boolean ok() {
        return status.equals("finished") || status.equals("terminated");
    }
}
