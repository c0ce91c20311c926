package io.keel.app.bdevperf;

import static io.keel.app.bdevperf.Runs.config;
import static io.keel.app.bdevperf.Runs.malloc;
import static io.keel.app.bdevperf.Runs.nul;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verify and reset workloads: correct data passes, and every way data can be wrong is caught and fails the run. */
class VerifyWorkloadTest {
    @TempDir
    Path dir;

    @Test
    void verifyPassesOnMalloc() throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 2048, 4096));
        Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, Workload.VERIFY, 32, 8192, 1));

        assertThat(o.exitCode()).as(o.err()).isZero();
        JobResult j = o.result().jobs().getFirst();
        assertThat(j.name()).isEqualTo("Malloc0");
        assertThat(j.status()).isEqualTo("finished");
        assertThat(j.ios()).isGreaterThan(1000);
        assertThat(j.failed()).isZero();
        assertThat(j.miscompares()).isZero();
        assertThat(j.verifyStart()).isZero();
        assertThat(j.verifyLength()).isEqualTo(1024); // 2048 blocks in 8 KiB I/Os
        assertThat(o.result().errors()).isEmpty();
    }

    @Test
    void verifyOnANullBdevIsAMismatchAndExitsNonZero() {
        // the null bdev stores nothing: a read leaves the buffer as it was, so the read-back cannot match
        Path cfg = config(dir, nul("Null0", 4096, 4096));
        Runs.Outcome o = Runs.cli("-c", cfg.toString(), "-q", "8", "-o", "4k", "-w", "verify", "-t", "1");

        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("verify FAILED on bdev Null0")
                .containsPattern("data read back at LBA \\d+ \\(byte offset \\d+, byte 0 of the block\\): "
                        + "expected \\[lba \\d+, generation \\d+, seed [0-9a-f]+\\], found \\[zeros: no pattern\\]");
        assertThat(o.out()).contains("Job: Null0 ended in about").contains("miscompared");
    }

    @Test
    void staleDataFromADroppedWriteIsCaughtByItsGeneration() throws Exception {
        // 64 ranges written over and over; every 400th write is acknowledged but never stored, so the read-back
        // finds the range's previous generation: right LBA, right seed, old data
        AtomicReference<FaultyBdev> bdev = new AtomicReference<>();
        Path cfg = config(dir);
        BdevperfOptions opts = BdevperfOptions.of(cfg, Workload.VERIFY, 4, 4096, 1);
        Runs.Outcome o = Runs.run(opts, app -> bdev.set(FaultyBdev.register(app, "Stale0", 4096, 64,
                FaultyBdev.Fault.DROP_WRITES, 400, 0)));

        assertThat(bdev.get().dropped.get()).isPositive();
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.result().jobs().getFirst().miscompares()).isPositive();
        assertThat(o.result().errors().getFirst()).contains("verify FAILED on bdev Stale0")
                .containsPattern("expected \\[lba (\\d+), generation (\\d+), seed ([0-9a-f]+)\\], found \\[lba \\1, generation \\d+, seed \\3\\]");
    }

    @Test
    void misplacedDataIsCaughtByItsLba() {
        // unit level: the same write generation and seed at another LBA differs in its header
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var expected = arena.allocate(4096);
            var actual = arena.allocate(4096);
            VerifyPattern.fill(expected, 10, 1, 4096, 7, 42);
            VerifyPattern.fill(actual, 11, 1, 4096, 7, 42);
            long at = VerifyPattern.mismatch(expected, actual, 4096);
            assertThat(at).isGreaterThanOrEqualTo(8).isLessThan(16); // the LBA word of the header
            assertThat(VerifyPattern.describe(expected, actual, at, 10, 4096))
                    .contains("expected [lba 10, generation 7, seed 2a]").contains("found [lba 11, generation 7, seed 2a]");
            VerifyPattern.fill(actual, 10, 1, 4096, 7, 42);
            assertThat(VerifyPattern.mismatch(expected, actual, 4096)).isEqualTo(-1);
            actual.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 4000, (byte) 0x5a); // one flipped byte in the body
            assertThat(VerifyPattern.mismatch(expected, actual, 4096)).isEqualTo(4000);
            assertThat(VerifyPattern.describe(expected, actual, 4000, 10, 4096)).contains("with different data after the header");
        }
    }

    @Test
    void verifyNeverHasTwoIosToOneRangeInFlight() throws Exception {
        // 16 ranges and a queue depth of 64: the depth is cut to 16; every 7th I/O completes 2 ms late, so the
        // sequential walk comes round to ranges still in flight, and must skip them: the bdev never sees overlap
        AtomicReference<FaultyBdev> bdev = new AtomicReference<>();
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.VERIFY, 64, 4096, 1);
        Runs.Outcome o = Runs.run(opts, app -> bdev.set(FaultyBdev.register(app, "Small0", 4096, 16,
                FaultyBdev.Fault.DELAY, 7, 2_000_000)));

        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.err()).contains("runs at depth 16");
        assertThat(o.result().jobs().getFirst().queueDepth()).isEqualTo(16);
        assertThat(bdev.get().maxInFlight.get()).isGreaterThan(1);
        assertThat(bdev.get().overlaps.get()).isZero();
    }

    @Test
    void jobsOnTwoCoresVerifyDisjointSlicesOfOneBdev() throws Exception {
        AtomicReference<FaultyBdev> bdev = new AtomicReference<>();
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.VERIFY, 8, 4096, 1)
                .withCores(CpuMask.of(0, 1)).withInterruptMode(true);
        Runs.Outcome o = Runs.run(opts, app -> bdev.set(FaultyBdev.register(app, "Shared0", 4096, 256,
                FaultyBdev.Fault.NONE, 1, 0)));

        assertThat(o.exitCode()).as(o.err()).isZero();
        List<JobResult> jobs = o.result().jobs();
        assertThat(jobs).extracting(JobResult::core).containsExactly(0, 1);
        assertThat(jobs).extracting(JobResult::coreMask).containsExactly("0x1", "0x2");
        assertThat(jobs).extracting(JobResult::verifyStart).containsExactly(0L, 128L);
        assertThat(jobs).extracting(JobResult::verifyLength).containsExactly(128L, 128L);
        assertThat(jobs).allSatisfy(j -> assertThat(j.ios()).isPositive());
        assertThat(bdev.get().overlaps.get()).isZero();
    }

    @Test
    void offsetAndLengthKeepTheJobsInsideTheirRange() throws Exception {
        AtomicReference<FaultyBdev> bdev = new AtomicReference<>();
        BdevperfOptions opts = BdevperfOptions.of(config(dir), Workload.VERIFY, 8, 4096, 1)
                .withCores(CpuMask.of(0, 1)).withInterruptMode(true).withRange(64, 128);
        Runs.Outcome o = Runs.run(opts, app -> bdev.set(FaultyBdev.register(app, "Shared0", 4096, 256,
                FaultyBdev.Fault.NONE, 1, 0)));

        assertThat(o.exitCode()).as(o.err()).isZero();
        List<JobResult> jobs = o.result().jobs();
        assertThat(jobs).extracting(JobResult::verifyStart).containsExactly(64L, 128L);
        assertThat(jobs).extracting(JobResult::verifyLength).containsExactly(64L, 64L);
        assertThat(jobs).allSatisfy(j -> assertThat(j.ios()).isPositive());
    }

    @Test
    void aRangeBeyondTheBdevIsRefused() throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 256, 4096));
        Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, Workload.VERIFY, 8, 4096, 1).withRange(192, 128));

        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("--offset 192 --length 128 is not a range of bdev Malloc0 (256 blocks)");
    }

    @Test
    void resetWorkloadVerifiesAndResets() throws Exception {
        Path cfg = config(dir, malloc("Malloc0", 1024, 4096));
        Runs.Outcome o = Runs.run(BdevperfOptions.of(cfg, Workload.RESET, 16, 4096, 1));

        assertThat(o.exitCode()).as(o.err()).isZero();
        JobResult j = o.result().jobs().getFirst();
        assertThat(j.resets()).isEqualTo(1); // a run shorter than 10 s resets once, half-way
        assertThat(j.ios()).isPositive();
        assertThat(j.miscompares()).isZero();
    }
}
