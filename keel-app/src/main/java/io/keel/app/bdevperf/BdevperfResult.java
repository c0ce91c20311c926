package io.keel.app.bdevperf;

import java.util.List;

/**
 * The outcome of a run.
 *
 * @param exitCode   0 when every job finished without a failure, 1 otherwise
 * @param jobs       per job, in the order they were made (bdev by bdev, core by core)
 * @param total      the sum over jobs (rates summed, latencies over every job's I/O)
 * @param allocation bytes the reactor threads allocated per I/O in steady state, or null if not measured
 * @param errors     the failures reported, in order (the first {@value Run#KEPT})
 * @param errorCount how many failures were reported in all
 * @param terminated whether a signal cut the run short
 */
public record BdevperfResult(int exitCode, List<JobResult> jobs, JobResult total, Allocation allocation,
        List<String> errors, long errorCount, boolean terminated) {

    public BdevperfResult {
        jobs = List.copyOf(jobs);
        errors = List.copyOf(errors);
    }

    /** A run that failed before any I/O. */
    static BdevperfResult failedBeforeIo(List<String> errors) {
        return new BdevperfResult(1, List.of(), null, null, errors, errors.size(), false);
    }

    /**
     * Allocation on the reactor threads over a window of the run that starts after a warm-up.
     *
     * @param bytes       bytes allocated in the window, all reactor threads together
     * @param ios         I/Os completed in the window, all jobs together
     * @param fromSeconds window start, seconds after the jobs were started
     * @param toSeconds   window end
     * @param threads     the OS threads measured
     */
    public record Allocation(long bytes, long ios, double fromSeconds, double toSeconds, List<String> threads) {
        /** Bytes per I/O, or NaN when no I/O completed in the window. */
        public double bytesPerIo() {
            return ios > 0 ? (double) bytes / ios : Double.NaN;
        }
    }
}
