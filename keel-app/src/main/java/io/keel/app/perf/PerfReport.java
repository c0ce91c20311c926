package io.keel.app.perf;

import java.io.PrintWriter;

/** Prints a run as spdk_nvme_perf lays it out, with the percentiles and allocation line of keel bdevperf. */
final class PerfReport {
    private static final String RULE = "=".repeat(60);

    private PerfReport() {
    }

    static void table(PerfResult r, PrintWriter out) {
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
            out.println(" Bytes allocated per I/O on I/O threads: not measured (the run ended before its warm-up did)");
        } else if (a.ios() == 0) {
            out.printf(" Bytes allocated per I/O on I/O threads: n/a (no I/O completed from %.2f s to %.2f s)%n",
                    a.fromS(), a.toS());
        } else {
            out.printf(" Bytes allocated per I/O on I/O threads: %.3f (%d bytes over %d I/Os, %.2f s to %.2f s into"
                    + " the run, %s)%n", a.bytesPerIo(), a.bytes(), a.ios(), a.fromS(), a.toS(),
                    String.join(", ", a.threads()));
        }
        for (String e : r.errors()) {
            out.println(" ERROR: " + e);
        }
        out.flush();
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
