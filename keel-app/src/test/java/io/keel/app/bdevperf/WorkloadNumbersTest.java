package io.keel.app.bdevperf;

import static io.keel.app.bdevperf.Runs.config;
import static io.keel.app.bdevperf.Runs.malloc;
import static io.keel.app.bdevperf.Runs.nul;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The throughput workloads report sane numbers, in a table or JSON; resource waits, failures and timeouts show. */
class WorkloadNumbersTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} -M {1}")
    @CsvSource({"randread, -1", "randwrite, -1", "rw, 70", "randrw, 30", "read, -1", "write, -1"})
    void workloadsOnMallocReportIopsAndSaneLatency(String workload, int readPercent) throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 4096, 4096));
        Workload w = Workload.fromWire(workload);
        BdevperfOptions opts = BdevperfOptions.of(cfg, w, 16, 4096, 0.6).withReadPercent(readPercent);
        Runs.Outcome o = Runs.run(opts);

        assertThat(o.exitCode()).as(o.err()).isZero();
        JobResult j = o.result().jobs().getFirst();
        assertSane(j, 4096);
        assertThat(j.workload()).isEqualTo(w);
        assertThat(j.runtimeSeconds()).isBetween(0.55, 5.0);
        assertThat(o.result().total().iops()).isEqualTo(j.iops());
    }

    @Test
    void jobsRunPerBdevPerCoreAndTotalsAddUp() throws Exception {
        Path cfg = config(dir, nul("Null0", 65536, 4096), malloc("Malloc0", 4096, 4096));
        BdevperfOptions opts = BdevperfOptions.of(cfg, Workload.RANDREAD, 8, 4096, 0.6)
                .withCores(CpuMask.of(0, 1)).withInterruptMode(true);
        Runs.Outcome o = Runs.run(opts);

        assertThat(o.exitCode()).as(o.err()).isZero();
        List<JobResult> jobs = o.result().jobs();
        assertThat(jobs).extracting(JobResult::name).containsExactly("Null0", "Null0", "Malloc0", "Malloc0");
        assertThat(jobs).extracting(JobResult::core).containsExactly(0, 1, 0, 1);
        jobs.forEach(j -> assertSane(j, 4096));
        JobResult total = o.result().total();
        assertThat(total.iops()).isCloseTo(jobs.stream().mapToDouble(JobResult::iops).sum(), within(1e-6));
        assertThat(total.ios()).isEqualTo(jobs.stream().mapToLong(JobResult::ios).sum());
        assertThat(total.p50LatencyUs()).isPositive().isLessThanOrEqualTo(total.p99LatencyUs());
    }

    @Test
    void aWorkloadABdevCannotDoSkipsThatBdev() throws Exception {
        Path cfg = config(dir, nul("Null0", 1024, 4096), malloc("Malloc0", 1024, 4096));
        Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, Workload.UNMAP, 8, 4096, 0.5));

        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.err()).contains("skipping bdev Null0: it does not support unmap");
        assertThat(o.result().jobs()).extracting(JobResult::name).containsExactly("Malloc0");
        assertSane(o.result().jobs().getFirst(), 4096);

        Path onlyNull = config(dir, nul("Null0", 1024, 4096));
        Runs.Outcome none = Runs.run(BdevperfOptions.of(onlyNull, Workload.UNMAP, 8, 4096, 0.5));
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.result().errors()).containsExactly("no bdev supports the unmap workload");
    }

    @Test
    void flushAndWriteZeroesRun() throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 1024, 4096));
        for (Workload w : List.of(Workload.FLUSH, Workload.WRITE_ZEROES)) {
            Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, w, 8, 8192, 0.4));
            assertThat(o.exitCode()).as(w + ": " + o.err()).isZero();
            assertSane(o.result().jobs().getFirst(), 8192);
        }
    }

    @Test
    void tableLooksLikeSpdks() {
        Path cfg = config(dir, malloc("Malloc0", 1024, 4096));
        Runs.Outcome o = Runs.cli("-c", cfg.toString(), "-q", "8", "-o", "4k", "-w", "randread", "-t", "0.5");

        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.out()).contains("Running I/O for 0.5 seconds...")
                .contains("Latency(us)")
                .containsPattern(" Device Information +: runtime\\(s\\) +IOPS +MiB/s +Fail/s +TO/s +Average +p50 +p99 +p99\\.9 +min +max")
                .contains("Job: Malloc0 (Core Mask 0x1, workload: randread, depth: 8, IO size: 4096)")
                .containsPattern("\t Malloc0 +: +0\\.\\d\\d +\\d+\\.\\d\\d ")
                .containsPattern(" Total +: +\\d+\\.\\d\\d ")
                .containsPattern("I/O: \\d+ completed, 0 failed, 0 timed out")
                .containsPattern("Bytes allocated per I/O on reactor threads: \\d+\\.\\d{3} \\(\\d+ bytes over \\d+ I/Os");
    }

    @Test
    void jsonOutputCarriesTheNumbers() throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 1024, 4096));
        Runs.Outcome o = Runs.cli("-c", cfg.toString(), "-q", "8", "-o", "4096", "-w", "randrw", "-M", "50", "-t", "0.5",
                "--json");

        assertThat(o.exitCode()).as(o.err()).isZero();
        JsonNode root = Json.MAPPER.readTree(o.out()); // stdout is only JSON
        JsonNode job = root.path("results").get(0);
        assertThat(job.path("job").asText()).isEqualTo("Malloc0");
        assertThat(job.path("core_mask").asText()).isEqualTo("0x1");
        assertThat(job.path("workload").asText()).isEqualTo("randrw");
        assertThat(job.path("percentage").asInt()).isEqualTo(50);
        assertThat(job.path("status").asText()).isEqualTo("finished");
        assertThat(job.path("iops").asDouble()).isPositive();
        assertThat(job.path("p99_latency_us").asDouble()).isPositive();
        assertThat(job.path("io_failed").asLong()).isZero();
        assertThat(root.path("core_count").asInt()).isEqualTo(1);
        assertThat(root.path("total").path("iops").asDouble()).isPositive();
        assertThat(root.path("allocation").path("bytes_per_io").isNumber()).isTrue();
        assertThat(root.path("status").asText()).isEqualTo("passed");
        assertThat(o.err()).contains("Running I/O for 0.5 seconds...");
    }

    @Test
    void aBdevIoPoolSmallerThanTheQueueDepthWaitsAndKeepsFlowing() throws Exception {
        // 8 bdev_io in all, 64 I/Os wanted in flight: submissions get -ENOMEM and wait with queueIoWait
        Path cfg = config(dir, "{\"method\":\"bdev_set_options\",\"params\":{\"bdev_io_pool_size\":8,\"bdev_io_cache_size\":2}}",
                malloc("Malloc0", 1024, 4096));
        Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, Workload.RANDREAD, 64, 4096, 0.6));

        assertThat(o.exitCode()).as(o.err()).isZero();
        assertSane(o.result().jobs().getFirst(), 4096);
        assertThat(o.result().jobs().getFirst().ioWaits()).isPositive();
        Runs.Outcome v = Runs.run(BdevperfOptions.of(cfg, Workload.VERIFY, 64, 4096, 0.6));
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(v.result().jobs().getFirst().ios()).isPositive();
    }

    @Test
    void aFailedIoFailsTheRunLoudly() throws Exception {
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.RANDREAD, 8, 4096, 0.6);
        Runs.Outcome o = Runs.run(opts, app -> FaultyBdev.register(app, "Bad0", 4096, 1024, FaultyBdev.Fault.FAIL_READS, 500, 0));

        assertThat(o.exitCode()).isEqualTo(1);
        JobResult j = o.result().jobs().getFirst();
        assertThat(j.status()).isEqualTo("failed");
        assertThat(j.failed()).isEqualTo(1); // the job stops at the first failure
        assertThat(j.runtimeSeconds()).isLessThan(0.5);
        assertThat(o.err()).containsPattern("bdevperf: bdev Bad0: read of 1 block\\(s\\) at LBA \\d+ \\(byte offset \\d+\\) failed with status FAILED");
    }

    @Test
    void withMinusFTheRunGoesOnAfterAFailureButStillFails() throws Exception {
        BdevperfOptions base = BdevperfOptions.of(config(dir), Workload.RANDREAD, 8, 4096, 0.6);
        BdevperfOptions opts = new BdevperfOptions(base.cores(), base.config(), null, false, false, List.of(), 8, 4096,
                Workload.RANDREAD, -1, 0.6, 0, true, 1, false, 0, 0, false);
        Runs.Outcome o = Runs.run(opts, app -> FaultyBdev.register(app, "Bad0", 4096, 1024, FaultyBdev.Fault.FAIL_READS, 500, 0));

        assertThat(o.exitCode()).isEqualTo(1);
        JobResult j = o.result().jobs().getFirst();
        assertThat(j.failed()).isGreaterThan(1);
        assertThat(j.runtimeSeconds()).isGreaterThan(0.55);
        assertThat(o.result().errorCount()).isEqualTo(j.failed());
    }

    @Test
    void slowIosCountAsTimedOut() throws Exception {
        // every 300th I/O takes 300 ms; with -k 0.1 each of them is counted once, and the run still passes
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.RANDREAD, 8, 4096, 1).withTimeoutSeconds(0.1);
        Runs.Outcome o = Runs.run(opts, app -> FaultyBdev.register(app, "Slow0", 4096, 1024, FaultyBdev.Fault.DELAY, 300,
                300_000_000L));

        assertThat(o.exitCode()).as(o.err()).isZero();
        JobResult j = o.result().jobs().getFirst();
        assertThat(j.timedOut()).isPositive();
        assertThat(j.timedOutPerSecond()).isPositive();
        assertThat(j.maxLatencyUs()).isGreaterThan(250_000);
    }

    @Test
    void anIoThatNeverCompletesIsReportedAsHung() throws Exception {
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.RANDREAD, 4, 4096, 0.3);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        BdevperfResult r = new Bdevperf(opts, new PrintWriter(out, true), new PrintWriter(err, true))
                .beforeJobs(app -> FaultyBdev.register(app, "Stuck0", 4096, 1024, FaultyBdev.Fault.HANG_ONE, 100, 0))
                .timeouts(300, 500)
                .run();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.jobs().getFirst().status()).isEqualTo("hung");
        assertThat(err.toString()).contains("job on bdev Stuck0, core 0 did not finish: I/O still outstanding");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"randread, Null0", "verify, Malloc0"})
    void reactorsAllocateNothingPerIoAfterAWarmUp(String workload, String bdev) throws Exception {
        Path cfg = config(dir, nul("Null0", 65536, 4096), malloc("Malloc0", 4096, 4096));
        BdevperfOptions opts = BdevperfOptions.of(cfg, Workload.fromWire(workload), 32, 4096, 1.2)
                .withBdevNames(List.of(bdev));
        Runs.Outcome o = Runs.run(opts);

        assertThat(o.exitCode()).as(o.err()).isZero();
        BdevperfResult.Allocation a = o.result().allocation();
        assertThat(a).isNotNull();
        assertThat(a.threads()).containsExactly("reactor_0");
        assertThat(a.fromSeconds()).isGreaterThanOrEqualTo(0.29);
        assertThat(a.toSeconds()).isGreaterThan(a.fromSeconds());
        assertThat(a.ios()).isGreaterThan(10_000);
        // an object per I/O would be 16 bytes or more; less than one byte per I/O means none (a stray log line
        // or deoptimisation in the window is not per I/O)
        assertThat(a.bytesPerIo()).as("%d bytes over %d I/Os", a.bytes(), a.ios()).isLessThan(1.0);
    }

    /** IOPS and bandwidth agree; latencies are positive, ordered and bounded. */
    private static void assertSane(JobResult j, int ioSize) {
        assertThat(j.status()).isEqualTo("finished");
        assertThat(j.ios()).isPositive();
        assertThat(j.iops()).isPositive();
        assertThat(j.iops()).isCloseTo(j.ios() / j.runtimeSeconds(), within(1e-6 * j.iops()));
        assertThat(j.mibps()).isCloseTo(j.iops() * ioSize / (1024.0 * 1024.0), within(1e-6 * j.mibps()));
        assertThat(j.failed()).isZero();
        assertThat(j.failedPerSecond()).isZero();
        assertThat(j.minLatencyUs()).isPositive();
        assertThat(j.p50LatencyUs()).isGreaterThanOrEqualTo(j.minLatencyUs());
        assertThat(j.p99LatencyUs()).isGreaterThanOrEqualTo(j.p50LatencyUs());
        assertThat(j.p999LatencyUs()).isGreaterThanOrEqualTo(j.p99LatencyUs());
        assertThat(j.maxLatencyUs()).isGreaterThanOrEqualTo(j.p999LatencyUs());
        assertThat(j.avgLatencyUs()).isBetween(j.minLatencyUs(), j.maxLatencyUs());
        assertThat(j.p50LatencyUs()).isLessThan(100_000); // the median I/O to memory takes far less than 100 ms
    }
}
