package io.keel.app.perf;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * A finished run: one line per queue (a namespace driven from a core), the allocation measurement, and the
 * errors (empty when it passed).
 */
record PerfResult(List<Line> lines, Allocation allocation, List<String> errors) {
    /** One queue's (or the total's) figures; latency in nanoseconds. */
    record Line(String name, double seconds, long ios, long reads, long writes, long failed, int ioSize,
            Histogram latency) {
        double iops() {
            return seconds > 0 ? ios / seconds : 0;
        }

        double mibps() {
            return iops() * ioSize / (1024.0 * 1024.0);
        }
    }

    /** Bytes allocated on the reactor threads per I/O completed in the window [fromS, toS] of the run. */
    record Allocation(long bytes, long ios, double fromS, double toS, List<String> threads) {
        double bytesPerIo() {
            return ios == 0 ? Double.NaN : (double) bytes / ios;
        }
    }

    Line total() {
        Histogram h = new Histogram(1, NsWorkerCtx.MAX_LATENCY_NS, 3);
        double seconds = 0;
        long ios = 0;
        long reads = 0;
        long writes = 0;
        long failed = 0;
        double iops = 0;
        for (Line l : lines) {
            h.add(l.latency());
            seconds = Math.max(seconds, l.seconds());
            ios += l.ios();
            reads += l.reads();
            writes += l.writes();
            failed += l.failed();
            iops += l.iops();
        }
        // IOPS add up per queue; expressed through a common duration so iops() returns their sum
        double s = iops > 0 ? ios / iops : seconds;
        return new Line("Total", s, ios, reads, writes, failed, lines.isEmpty() ? 0 : lines.getFirst().ioSize(), h);
    }
}
