package io.keel.app.perf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.app.bdevperf.Workload;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code keel perf}'s options, spdk_nvme_perf style, become {@link PerfOptions} or a message naming the problem. */
class PerfArgumentsTest {
    private static final String R = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2024-11.io.keel:default";

    private static PerfOptions parse(String... args) {
        PerfCommand cmd = new PerfCommand();
        CommandLine cl = new CommandLine(cmd);
        cl.parseArgs(args);
        return cmd.options(cl);
    }

    @Test
    void spdkPerfStyleArgumentsParse() {
        PerfOptions o = parse("-r", R, "-q", "32", "-o", "4k", "-w", "randrw", "-M", "70", "-t", "2.5", "-c", "0x3",
                "-H", "--data-digest", "-n", "2", "--check");
        assertThat(o.trid().traddr()).isEqualTo("127.0.0.1");
        assertThat(o.trid().trsvcid()).isEqualTo(4420);
        assertThat(o.trid().subnqn()).isEqualTo("nqn.2024-11.io.keel:default");
        assertThat(o.cores()).containsExactly(0, 1);
        assertThat(o.queueDepth()).isEqualTo(32);
        assertThat(o.ioSize()).isEqualTo(4096);
        assertThat(o.workload()).isEqualTo(Workload.RANDRW);
        assertThat(o.readPercent()).isEqualTo(70);
        assertThat(o.seconds()).isEqualTo(2.5);
        assertThat(o.headerDigest()).isTrue();
        assertThat(o.dataDigest()).isTrue();
        assertThat(o.nsid()).isEqualTo(2);
        assertThat(o.check()).isTrue();
    }

    @Test
    void queueCountAndSingleWorkloadDefaults() {
        PerfOptions o = parse("-r", R, "-q", "1", "-o", "512", "-w", "randread", "-t", "1", "-m", "3");
        assertThat(o.cores()).containsExactly(0, 1, 2);
        assertThat(o.readPercent()).isEqualTo(100);
        assertThat(o.nsid()).isEqualTo(1);
        assertThat(o.keepAliveMs()).isEqualTo(10_000);
        assertThat(parse("-r", R, "-q", "1", "-o", "512", "-w", "write", "-t", "1").readPercent()).isZero();
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> parse("-r", "trtype:RDMA traddr:1.2.3.4 subnqn:x", "-q", "1", "-o", "4k", "-w", "read",
                "-t", "1")).hasMessageContaining("only TCP");
        assertThatThrownBy(() -> parse("-r", "trtype:TCP traddr:1.2.3.4", "-q", "1", "-o", "4k", "-w", "read", "-t", "1"))
                .hasMessageContaining("subnqn");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "randrw", "-t", "1"))
                .hasMessageContaining("-M");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "verify", "-t", "1"))
                .hasMessageContaining("not one of");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "read", "-t", "1", "-c", "0x1", "-m", "2"))
                .hasMessageContaining("not both");
    }

    @Test
    void missingRequiredOptionsExitWithTwo() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new PerfCommand()).setErr(new PrintWriter(err));
        assertThat(cl.execute("-q", "1")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required options").contains("-r=TRID");
    }
}
