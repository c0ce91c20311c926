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
                "-H", "--data-digest", "-n", "2", "--check", "-LL");
        assertThat(o.targets()).hasSize(1);
        PerfTarget t = o.targets().getFirst();
        assertThat(t.trid().traddr()).isEqualTo("127.0.0.1");
        assertThat(t.trid().trsvcid()).isEqualTo(4420);
        assertThat(t.trid().subnqn()).isEqualTo("nqn.2024-11.io.keel:default");
        assertThat(t.nsid()).isEqualTo(2);
        assertThat(t.hostNqn()).isNull();
        assertThat(o.cores()).containsExactly(0, 1);
        assertThat(o.pin()).as("-c pins the reactors, as spdk_nvme_perf's core mask does").isTrue();
        assertThat(o.interruptMode()).as("poll mode by default").isFalse();
        assertThat(o.latencyLevel()).isEqualTo(2);
        assertThat(o.queueDepth()).isEqualTo(32);
        assertThat(o.ioSize()).isEqualTo(4096);
        assertThat(o.workload()).isEqualTo(Workload.RANDRW);
        assertThat(o.readPercent()).isEqualTo(70);
        assertThat(o.seconds()).isEqualTo(2.5);
        assertThat(o.headerDigest()).isTrue();
        assertThat(o.dataDigest()).isTrue();
        assertThat(o.check()).isTrue();
    }

    @Test
    void queueCountAndSingleWorkloadDefaults() {
        PerfOptions o = parse("-r", R, "-q", "1", "-o", "512", "-w", "randread", "-t", "1", "-m", "3");
        assertThat(o.cores()).containsExactly(0, 1, 2);
        assertThat(o.pin()).as("-m chooses a count, not cores: no pinning").isFalse();
        assertThat(o.readPercent()).isEqualTo(100);
        assertThat(o.targets().getFirst().nsid()).as("every active namespace").isZero();
        assertThat(o.keepAliveMs()).isEqualTo(10_000);
        assertThat(o.latencyLevel()).isZero();
        assertThat(parse("-r", R, "-q", "1", "-o", "512", "-w", "write", "-t", "1").readPercent()).isZero();
    }

    @Test
    void severalControllersWithTheirNamespaceAndHostNqnAsSpdkNvmePerfReadsThem() {
        PerfOptions o = parse("-r", R + " ns:3", "-r", "trtype:tcp traddr:10.0.0.2 subnqn:nqn.b hostnqn:nqn.2014-08.org.example:h1",
                "-r", "traddr=10.0.0.3 trtype=TCP subnqn=nqn.c NS=4", "-n", "7", "-q", "8", "-o", "4k", "-w", "read",
                "-t", "1", "--hostnqn", "nqn.2014-08.org.example:default", "-L", "--interrupt-mode");
        assertThat(o.targets()).hasSize(3);
        assertThat(o.targets().get(0).nsid()).as("ns: wins over -n").isEqualTo(3);
        assertThat(o.targets().get(0).hostNqn()).isNull();
        assertThat(o.targets().get(1).trid().traddr()).isEqualTo("10.0.0.2");
        assertThat(o.targets().get(1).trid().trsvcid()).isEqualTo(4420);
        assertThat(o.targets().get(1).nsid()).as("-n for a trid without ns:").isEqualTo(7);
        assertThat(o.targets().get(1).hostNqn()).isEqualTo("nqn.2014-08.org.example:h1");
        assertThat(o.targets().get(2).trid().subnqn()).isEqualTo("nqn.c");
        assertThat(o.targets().get(2).nsid()).isEqualTo(4);
        assertThat(o.hostNqn()).isEqualTo("nqn.2014-08.org.example:default");
        assertThat(o.latencyLevel()).isEqualTo(1);
        assertThat(o.interruptMode()).isTrue();
        assertThat(o.targets().get(1).describe()).isEqualTo("TCP (addr:10.0.0.2 subnqn:nqn.b)");
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> parse("-r", "trtype:FC traddr:1.2.3.4 subnqn:x", "-q", "1", "-o", "4k", "-w", "read",
                "-t", "1")).hasMessageContaining("TCP or RDMA");
        assertThatThrownBy(() -> parse("-r", "trtype:TCP traddr:1.2.3.4", "-q", "1", "-o", "4k", "-w", "read", "-t", "1"))
                .hasMessageContaining("subnqn");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "randrw", "-t", "1"))
                .hasMessageContaining("-M");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "verify", "-t", "1"))
                .hasMessageContaining("not one of");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "read", "-t", "1", "-c", "0x1", "-m", "2"))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> parse("-r", R + " ns:0", "-q", "1", "-o", "4k", "-w", "read", "-t", "1"))
                .hasMessageContaining("ns:0");
        assertThatThrownBy(() -> parse("-r", R + " ns:x", "-q", "1", "-o", "4k", "-w", "read", "-t", "1"))
                .hasMessageContaining("ns:x");
        assertThatThrownBy(() -> parse("-r", R, "-n", "0", "-q", "1", "-o", "4k", "-w", "read", "-t", "1"))
                .hasMessageContaining("-n");
        assertThatThrownBy(() -> parse("-r", R, "-q", "1", "-o", "4k", "-w", "read", "-t", "1", "-LLL"))
                .hasMessageContaining("-L");
    }

    @Test
    void missingRequiredOptionsExitWithTwo() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new PerfCommand()).setErr(new PrintWriter(err));
        assertThat(cl.execute("-q", "1")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required options").contains("-r=TRID");
    }
}
