package io.keel.app.bdevperf;

import static io.keel.app.bdevperf.Runs.config;
import static io.keel.app.bdevperf.Runs.malloc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrong arguments stop bdevperf before it starts, with a message that names the problem (exit 2, as picocli's). */
class ArgumentsTest {
    @TempDir
    Path dir;

    private String cfg() {
        return config(dir, malloc("Malloc0", 256, 4096)).toString();
    }

    @Test
    void requiredOptionsAreNamed() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-o", "4k", "-w", "randread");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("Missing required options").contains("-q=DEPTH").contains("-t=SECONDS");
    }

    @Test
    void anUnknownWorkloadListsTheKnownOnes() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "sideways", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("unknown workload 'sideways': expected one of read, write, randread, randwrite, rw, "
                + "randrw, verify, reset, unmap, flush, write_zeroes");
    }

    @Test
    void sizesTakeSuffixesAndBadOnesAreRefused() {
        assertThat(ByteSize.parse("4096")).isEqualTo(4096);
        assertThat(ByteSize.parse("4k")).isEqualTo(4096);
        assertThat(ByteSize.parse("4K")).isEqualTo(4096);
        assertThat(ByteSize.parse("128k")).isEqualTo(131072);
        assertThat(ByteSize.parse("4KiB")).isEqualTo(4096);
        assertThat(ByteSize.parse("1m")).isEqualTo(1 << 20);
        assertThat(ByteSize.parse("2G")).isEqualTo(2L << 30);
        assertThatThrownBy(() -> ByteSize.parse("4x")).hasMessageContaining("invalid size '4x'");
        assertThatThrownBy(() -> ByteSize.parse("-1")).hasMessageContaining("invalid size");
        assertThatThrownBy(() -> ByteSize.parse("")).hasMessageContaining("invalid size");

        Runs.Outcome o = Runs.cli("-c", cfg(), "-q", "8", "-o", "4x", "-w", "randread", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("Invalid value for option '-o'").contains("invalid size '4x'");
        Runs.Outcome huge = Runs.cli("-c", cfg(), "-q", "8", "-o", "4g", "-w", "randread", "-t", "1");
        assertThat(huge.exitCode()).isEqualTo(2);
        assertThat(huge.err()).contains("I/O size must be from 1 byte to 2 GiB");
    }

    @Test
    void mixedWorkloadsNeedMinusMAndOthersRefuseIt() {
        Runs.Outcome rw = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "rw", "-t", "1");
        assertThat(rw.exitCode()).isEqualTo(2);
        assertThat(rw.err()).contains("-M (read percentage) must be given, 0 to 100, for rw");
        Runs.Outcome tooMuch = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "randrw", "-M", "101", "-t", "1");
        assertThat(tooMuch.exitCode()).isEqualTo(2);
        assertThat(tooMuch.err()).contains("-M (read percentage) must be given, 0 to 100, for randrw");
        Runs.Outcome notMixed = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "randread", "-M", "50", "-t", "1");
        assertThat(notMixed.exitCode()).isEqualTo(2);
        assertThat(notMixed.err()).contains("-M (read percentage) applies only to rw and randrw, not randread");
    }

    @Test
    void numbersOutOfRangeAreRefused() {
        Runs.Outcome q = Runs.cli("-c", cfg(), "-q", "0", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(q.exitCode()).isEqualTo(2);
        assertThat(q.err()).contains("queue depth (-q) must be at least 1, not 0");
        Runs.Outcome t = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "randread", "-t", "0");
        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.err()).contains("run time (-t) must be a positive number of seconds");
        Runs.Outcome k = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "randread", "-t", "1", "-k", "-1");
        assertThat(k.exitCode()).isEqualTo(2);
        assertThat(k.err()).contains("I/O timeout (-k) cannot be negative");
        Runs.Outcome r = Runs.cli("-c", cfg(), "-q", "8", "-o", "4k", "-w", "verify", "-t", "1", "--offset", "-8");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--offset and --length cannot be negative");
    }

    @Test
    void anOffsetThatIsNotAMultipleOfTheIoSizeIsRefused() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-q", "8", "-o", "8k", "-w", "verify", "-t", "1", "--offset", "1");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("--offset 1 --length 0 is not a range of bdev Malloc0 (256 blocks) starting at a "
                + "multiple of the 2-block I/O size");
    }

    @Test
    void aConfigIsRequiredAndMustBeReadable() {
        Runs.Outcome none = Runs.cli("-q", "8", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("no bdevs to test: give an SPDK JSON config that creates them with -c FILE");
        Runs.Outcome missing = Runs.cli("-c", dir.resolve("nope.json").toString(), "-q", "8", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("cannot read config file").contains("nope.json");
    }

    @Test
    void aBadCpumaskIsRefused() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-m", "0xZ", "-q", "8", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("Invalid value for option '-m'").contains("invalid cpumask '0xZ'");
    }

    @Test
    void anUnknownBdevNamesTheOnesThatExist() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-T", "Nope0", "-q", "8", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("bdev 'Nope0' does not exist; bdevs: Malloc0");
    }

    @Test
    void anIoSizeThatIsNotAMultipleOfTheBlockSizeIsRefused() {
        Runs.Outcome o = Runs.cli("-c", cfg(), "-q", "8", "-o", "1000", "-w", "randread", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("I/O size (-o) 1000 is not a multiple of bdev Malloc0's block size 4096");
    }

    @Test
    void aConfigKeelCannotLoadFailsClearly() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":\"bdev_malloc_create\","
                + "\"params\":{\"name\":\"M\",\"num_blocks\":0,\"block_size\":4096}}]}]}");
        Runs.Outcome o = Runs.cli("-c", bad.toString(), "-q", "8", "-o", "4k", "-w", "randread", "-t", "1");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("Keel did not start (see the log above); config " + bad);
    }

    @Test
    void helpExplainsTheWorkloadsAndExitCodes() {
        Runs.Outcome o = Runs.cli("--help");
        assertThat(o.exitCode()).isZero();
        assertThat(o.out()).contains("Usage: bdevperf").contains("Workloads (-w)").contains("Exit status:")
                .contains("-q=DEPTH").contains("--interrupt-mode").contains("--json");
    }
}
