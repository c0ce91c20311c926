package io.keel.app.bdevperf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.io.PrintWriter;

/** Prints a run's results: a table laid out like SPDK bdevperf's, or JSON shaped like its {@code perform_tests} result. */
final class Report {
    private static final String RULE = " " + "=".repeat(149);

    private Report() {
    }

    /** Prints a run's results as its options ask: JSON, or the table when any job ran. */
    static void print(BdevperfResult r, BdevperfOptions o, PrintWriter out) {
        if (o.json()) {
            out.println(Json.pretty(json(r, o.cores().count())));
            out.flush();
        } else if (!r.jobs().isEmpty()) {
            table(r, out);
        }
    }

    static void table(BdevperfResult r, PrintWriter out) {
        out.println();
        out.printf("%" + 127 + "s%n", "Latency(us)");
        out.printf(" %-28s: %10s %10s %10s %10s %8s %10s %10s %10s %10s %10s %10s%n", "Device Information",
                "runtime(s)", "IOPS", "MiB/s", "Fail/s", "TO/s", "Average", "p50", "p99", "p99.9", "min", "max");
        for (JobResult j : r.jobs()) {
            if (j.workload().mixed()) {
                out.printf("Job: %s (Core Mask %s, workload: %s, percentage: %d, depth: %d, IO size: %d)%n", j.name(),
                        j.coreMask(), j.workload(), j.readPercent(), j.queueDepth(), j.ioSize());
            } else {
                out.printf("Job: %s (Core Mask %s, workload: %s, depth: %d, IO size: %d)%n", j.name(), j.coreMask(),
                        j.workload(), j.queueDepth(), j.ioSize());
            }
            if (j.status().equals("failed") || j.status().equals("hung")) {
                out.printf("Job: %s ended in about %.2f seconds with error%s%n", j.name(), j.runtimeSeconds(),
                        j.status().equals("hung") ? " (I/O still outstanding)" : "");
            }
            if (j.verifyStart() >= 0) {
                out.printf("\t Verification LBA range: start 0x%x length 0x%x%n", j.verifyStart(), j.verifyLength());
            }
            out.printf("\t %-20s: %10.2f %10.2f %10.2f %10.2f %8.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f%n",
                    j.name(), j.runtimeSeconds(), j.iops(), j.mibps(), j.failedPerSecond(), j.timedOutPerSecond(),
                    j.avgLatencyUs(), j.p50LatencyUs(), j.p99LatencyUs(), j.p999LatencyUs(), j.minLatencyUs(),
                    j.maxLatencyUs());
        }
        out.println(RULE);
        JobResult t = r.total();
        if (t != null) {
            out.printf(" %-28s: %10s %10.2f %10.2f %10.2f %8.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f%n", "Total", "",
                    t.iops(), t.mibps(), t.failedPerSecond(), t.timedOutPerSecond(), t.avgLatencyUs(),
                    t.p50LatencyUs(), t.p99LatencyUs(), t.p999LatencyUs(), t.minLatencyUs(), t.maxLatencyUs());
            out.println();
            out.printf(" I/O: %d completed, %d failed, %d timed out%s%n", t.ios(), t.failed(), t.timedOut(),
                    t.workload().verifies() ? ", " + t.miscompares() + " miscompared" : "");
        }
        BdevperfResult.Allocation a = r.allocation();
        if (a == null) {
            out.println(" Bytes allocated per I/O on reactor threads: not measured (the run ended before its warm-up did)");
        } else if (a.ios() == 0) {
            out.printf(" Bytes allocated per I/O on reactor threads: n/a (no I/O completed from %.2f s to %.2f s)%n",
                    a.fromSeconds(), a.toSeconds());
        } else {
            out.printf(" Bytes allocated per I/O on reactor threads: %.3f (%d bytes over %d I/Os, %.2f s to %.2f s into the run, %s)%n",
                    a.bytesPerIo(), a.bytes(), a.ios(), a.fromSeconds(), a.toSeconds(), String.join(", ", a.threads()));
        }
        if (r.terminated()) {
            out.println(" The run was stopped by a signal before its time was up.");
        }
        if (!r.errors().isEmpty()) {
            out.printf(" FAILED: %d error(s); the first: %s%n", r.errorCount(), r.errors().getFirst());
        }
        out.flush();
    }

    static ObjectNode json(BdevperfResult r, int coreCount) {
        ObjectNode root = Json.object();
        ArrayNode results = root.putArray("results");
        for (JobResult j : r.jobs()) {
            results.add(job(j));
        }
        root.put("core_count", coreCount);
        if (r.total() != null) {
            ObjectNode t = job(r.total());
            t.remove(java.util.List.of("core_mask", "core", "status", "runtime", "queue_depth", "io_size", "workload",
                    "percentage"));
            root.set("total", t);
        }
        BdevperfResult.Allocation a = r.allocation();
        if (a != null) {
            ObjectNode n = root.putObject("allocation");
            if (a.ios() > 0) {
                n.put("bytes_per_io", a.bytesPerIo());
            } else {
                n.putNull("bytes_per_io");
            }
            n.put("bytes", a.bytes());
            n.put("ios", a.ios());
            n.put("from_s", a.fromSeconds());
            n.put("to_s", a.toSeconds());
            ArrayNode threads = n.putArray("threads");
            a.threads().forEach(threads::add);
        }
        root.put("status", r.exitCode() == 0 ? (r.terminated() ? "terminated" : "passed") : "failed");
        root.put("error_count", r.errorCount());
        ArrayNode errors = root.putArray("errors");
        r.errors().forEach(errors::add);
        return root;
    }

    private static ObjectNode job(JobResult j) {
        ObjectNode n = Json.object();
        n.put("job", j.name());
        n.put("core_mask", j.coreMask());
        n.put("core", j.core());
        n.put("workload", j.workload().wireName());
        if (j.workload().mixed()) {
            n.put("percentage", j.readPercent());
        }
        n.put("status", j.status());
        if (j.verifyStart() >= 0) {
            ObjectNode v = n.putObject("verify_range");
            v.put("start", j.verifyStart());
            v.put("length", j.verifyLength());
        }
        n.put("queue_depth", j.queueDepth());
        n.put("io_size", j.ioSize());
        n.put("runtime", j.runtimeSeconds());
        n.put("iops", j.iops());
        n.put("mibps", j.mibps());
        n.put("io_completed", j.ios());
        n.put("io_failed", j.failed());
        n.put("io_timeout", j.timedOut());
        n.put("io_waits", j.ioWaits());
        if (j.workload().verifies()) {
            n.put("miscompares", j.miscompares());
        }
        if (j.workload() == Workload.RESET) {
            n.put("resets", j.resets());
        }
        n.put("avg_latency_us", j.avgLatencyUs());
        n.put("p50_latency_us", j.p50LatencyUs());
        n.put("p99_latency_us", j.p99LatencyUs());
        n.put("p99_9_latency_us", j.p999LatencyUs());
        n.put("min_latency_us", j.minLatencyUs());
        n.put("max_latency_us", j.maxLatencyUs());
        return n;
    }
}
