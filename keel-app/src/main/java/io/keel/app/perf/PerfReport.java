package io.keel.app.perf;

import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Prints a run as spdk_nvme_perf lays it out, with the percentiles and allocation line of keel bdevperf; with
 * {@code -L} spdk_nvme_perf's latency summary per queue, with {@code -LL} its latency histogram too.
 */
final class PerfReport {
    private static final String RULE = "=".repeat(60);
    /** spdk_nvme_perf's summary cut-offs. */
    private static final double[] CUTOFFS = {0.01, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.98, 0.99, 0.995, 0.999,
        0.9999, 0.99999, 0.999999, 0.9999999};
    /** Sub-buckets per power of two in the -LL histogram, as SPDK's histogram (SPDK_HISTOGRAM_BUCKET_SHIFT 7). */
    private static final int BUCKET_SHIFT = 7;

    private PerfReport() {
    }

    static void table(PerfResult r, PrintWriter out) {
        table(r, out, 0);
    }

    /** The table, then with {@code latencyLevel} 1 the latency summaries, with 2 also the histograms. */
    static void table(PerfResult r, PrintWriter out, int latencyLevel) {
        int w = r.lines().stream().mapToInt(l -> l.name().length()).max().orElse(10);
        String row = "%-" + w + "s: %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f%n";
        out.println(RULE);
        // over the six latency columns, which start after the name, IOPS and MiB/s
        out.printf("%" + (w + 2 + 22 + 36) + "s%n", "Latency(us)");
        out.printf("%-" + w + "s: %10s %10s %10s %10s %10s %10s %10s %10s%n", "Device Information", "IOPS", "MiB/s",
                "Average", "p50", "p99", "p99.9", "min", "max");
        for (PerfResult.Line l : r.lines()) {
            line(out, row, l);
        }
        out.println(RULE);
        PerfResult.Line t = r.total();
        line(out, row, new PerfResult.Line(String.format("%-" + w + "s", "Total"), t.seconds(), t.ios(), t.reads(),
                t.writes(), t.failed(), t.ioSize(), t.latency()));
        out.println();
        out.printf(" I/O: %d completed (%d reads, %d writes), %d failed, %.2f s%n", t.ios(), t.reads(), t.writes(),
                t.failed(), r.lines().stream().mapToDouble(PerfResult.Line::seconds).max().orElse(0));
        PerfResult.Allocation a = r.allocation();
        if (a == null) {
            out.println(" Bytes allocated per I/O on the reactors: not measured (the run ended before its warm-up did)");
        } else if (a.ios() == 0) {
            out.printf(" Bytes allocated per I/O on the reactors: n/a (no I/O completed from %.2f s to %.2f s)%n",
                    a.fromS(), a.toS());
        } else {
            out.printf(" Bytes allocated per I/O on the reactors: %.3f (%d bytes over %d I/Os, %.2f s to %.2f s into"
                    + " the run, %s)%n", a.bytesPerIo(), a.bytes(), a.ios(), a.fromS(), a.toS(),
                    String.join(", ", a.threads()));
        }
        for (String e : r.errors()) {
            out.println(" ERROR: " + e);
        }
        if (latencyLevel >= 1) {
            out.println();
            for (PerfResult.Line l : r.lines()) {
                summary(out, l);
            }
        }
        if (latencyLevel >= 2) {
            for (PerfResult.Line l : r.lines()) {
                histogram(out, l);
            }
        }
        out.flush();
    }

    /** spdk_nvme_perf's "Summary latency data": the latency under which each cut-off of the I/O completed. */
    private static void summary(PrintWriter out, PerfResult.Line l) {
        out.printf("Summary latency data for %s:%n", l.name());
        out.println("=".repeat(81));
        Histogram h = l.latency();
        if (h.getTotalCount() > 0) {
            for (double c : CUTOFFS) {
                out.printf("%9.5f%% : %9.3fus%n", c * 100, h.getValueAtPercentile(c * 100) / 1e3);
            }
        }
        out.println();
    }

    /** spdk_nvme_perf's "Latency histogram": log-linear buckets (128 per power of two), cumulative share, count. */
    private static void histogram(PrintWriter out, PerfResult.Line l) {
        out.printf("Latency histogram for %s:%n", l.name());
        out.println("=".repeat(78));
        out.println("       Range in us     Cumulative    IO count");
        Histogram h = l.latency();
        TreeMap<Long, long[]> buckets = new TreeMap<>(); // start ns -> {end ns, count}
        for (HistogramIterationValue v : h.recordedValues()) {
            long value = v.getValueIteratedTo();
            int shift = Math.max(0, 63 - Long.numberOfLeadingZeros(value) - BUCKET_SHIFT);
            long start = value >>> shift << shift;
            long[] b = buckets.computeIfAbsent(start, k -> new long[] {k + (1L << shift), 0});
            b[1] += v.getCountAddedInThisIterationStep();
        }
        long total = h.getTotalCount();
        long sofar = 0;
        for (Map.Entry<Long, long[]> e : buckets.entrySet()) {
            sofar += e.getValue()[1];
            out.printf("%9.3f - %9.3f: %9.4f%%  (%9d)%n", e.getKey() / 1e3, e.getValue()[0] / 1e3,
                    100.0 * sofar / total, e.getValue()[1]);
        }
        out.println();
    }

    private static void line(PrintWriter out, String row, PerfResult.Line l) {
        boolean any = l.latency().getTotalCount() > 0;
        out.printf(row, l.name(), l.iops(), l.mibps(), any ? l.latency().getMean() / 1e3 : 0, us(l, 50), us(l, 99),
                us(l, 99.9), any ? l.latency().getMinValue() / 1e3 : 0, any ? l.latency().getMaxValue() / 1e3 : 0);
    }

    private static double us(PerfResult.Line l, double percentile) {
        return l.latency().getTotalCount() == 0 ? 0 : l.latency().getValueAtPercentile(percentile) / 1e3;
    }
}
