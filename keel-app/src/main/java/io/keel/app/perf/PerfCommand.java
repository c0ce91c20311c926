package io.keel.app.perf;

import io.keel.app.bdevperf.ByteSize;
import io.keel.app.bdevperf.Workload;
import io.keel.core.thread.CpuMask;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** {@code keel perf}: an NVMe-oF/TCP load generator in the manner of SPDK's spdk_nvme_perf. */
@Command(name = "perf", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Connect to NVMe-oF controllers over TCP as a host (keel-nvme-host) on Keel reactors, one per core "
                    + "(poll mode unless --interrupt-mode). Each core's worker drives its share of the namespaces "
                    + "(every active namespace of each -r unless ns:N or -n names one; namespaces and cores are "
                    + "paired as spdk_nvme_perf pairs them) through an I/O queue each, keeping -q commands of -o "
                    + "bytes in flight for -t seconds, then prints IOPS, MiB/s and latency in microseconds "
                    + "(average, p50, p99, p99.9, min, max) per queue and in total, and the bytes the worker "
                    + "reactors allocated per I/O after a warm-up.",
            ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the run finished and no I/O failed", "1:connecting failed, a controller or queue failed "
                + "during the run, an I/O failed or the check read back wrong data", "2:wrong arguments"},
        footerHeading = "%nExamples:%n",
        footer = {
            "  keel perf -r 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2024-11.io.keel:default'"
                    + " -q 32 -o 4096 -w randread -t 5",
            "  keel perf -r '...' -q 16 -o 128k -w randrw -M 70 -t 5 -c 0x3 --hdr-digest --data-digest --check",
            "  keel perf -r '... subnqn:nqn.a ns:1' -r '... subnqn:nqn.b hostnqn:nqn.2014-08.org.example:h1' -q 32 "
                    + "-o 4k -w randread -t 5 -LL"})
public final class PerfCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-r", "--transport"}, required = true, paramLabel = "TRID",
            description = "Transport ID: 'trtype:TCP adrfam:IPv4 traddr:ADDR trsvcid:PORT subnqn:NQN [ns:NSID] "
                    + "[hostnqn:NQN]' (repeatable: one controller each). Without ns: every active namespace is driven")
    List<String> trids = new ArrayList<>();

    @Option(names = "-q", required = true, paramLabel = "DEPTH", description = "Commands in flight per I/O queue")
    int queueDepth;

    @Option(names = "-o", required = true, paramLabel = "SIZE", description = "I/O size in bytes (4096, 4k, 128k)")
    String ioSize;

    @Option(names = "-w", required = true, paramLabel = "WORKLOAD",
            description = "read, write, randread, randwrite, rw or randrw")
    String workload;

    @Option(names = "-M", paramLabel = "PERCENT", description = "Reads in 100 I/Os of rw and randrw")
    Integer readPercent;

    @Option(names = "-t", required = true, paramLabel = "SECONDS", description = "How long the I/O runs")
    double seconds;

    @Option(names = {"-c", "--core-mask"}, paramLabel = "MASK",
            description = "Cores as a hex mask (0x3) or list ([0,1]): one reactor and worker each, pinned to its core")
    String coreMask;

    @Option(names = {"-m", "--queues"}, paramLabel = "N",
            description = "Number of workers on cores 0..N-1, not pinned, as an alternative to -c. Default: 1")
    Integer queues;

    @Option(names = "-n", paramLabel = "NSID",
            description = "Namespace ID for every -r that has no ns:. Default: every active namespace")
    Integer nsid;

    @Option(names = {"-H", "--hdr-digest"}, description = "Ask for the NVMe/TCP header digest")
    boolean headerDigest;

    @Option(names = {"-I", "--data-digest"}, description = "Ask for the NVMe/TCP data digest")
    boolean dataDigest;

    @Option(names = "--hostnqn", paramLabel = "NQN",
            description = "Host NQN for every -r that has no hostnqn:. Default: nqn.2014-08.org.nvmexpress:uuid:<random host ID>")
    String hostNqn;

    @Option(names = "-k", defaultValue = "10000", paramLabel = "MS",
            description = "Keep-alive timeout in ms (keep-alives go every half of it; 0: off). Default: ${DEFAULT-VALUE}")
    int keepAliveMs;

    @Option(names = "--seed", defaultValue = "24301", paramLabel = "N", description = "Seed of offsets and the read/write mix")
    long seed;

    @Option(names = "--check", description = "Before the run, write one I/O of a pattern to each namespace, read it back and compare")
    boolean check;

    @Option(names = "-L", description = "Print latency percentiles per queue (-L), and a latency histogram too (-LL)")
    boolean[] latency = new boolean[0];

    @Option(names = "--interrupt-mode", description = "Reactors sleep when idle instead of busy-polling (default: poll mode, as spdk_nvme_perf spins)")
    boolean interruptMode;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        PerfOptions options = options(cl);
        PrintWriter out = cl.getOut();
        Perf perf = new Perf(options, out);
        SignalHandler stop = s -> perf.stop();
        SignalHandler previousInt = Signal.handle(new Signal("INT"), stop);
        SignalHandler previousTerm = Signal.handle(new Signal("TERM"), stop);
        PerfResult result;
        try {
            result = perf.run();
        } catch (java.io.IOException e) {
            cl.getErr().println("perf: " + e.getMessage());
            cl.getErr().flush();
            return 1;
        } finally {
            Signal.handle(new Signal("INT"), previousInt);
            Signal.handle(new Signal("TERM"), previousTerm);
        }
        PerfReport.table(result, out, options.latencyLevel());
        return result.errors().isEmpty() ? 0 : 1;
    }

    PerfOptions options(CommandLine cl) {
        try {
            if (nsid != null && nsid < 1) {
                throw new IllegalArgumentException("-n must be a namespace ID from 1");
            }
            List<PerfTarget> targets = new ArrayList<>();
            for (String t : trids) {
                PerfTarget p = PerfTarget.parse(t);
                targets.add(nsid == null ? p : p.withDefaultNsid(nsid));
            }
            return new PerfOptions(targets, cores(), coreMask != null, interruptMode, queueDepth, size(),
                    Workload.fromWire(workload), readPercent == null ? -1 : readPercent, seconds, headerDigest,
                    dataDigest, hostNqn, keepAliveMs, seed, check, latency.length);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    private int[] cores() {
        if (coreMask != null && queues != null) {
            throw new IllegalArgumentException("give -c or -m, not both");
        }
        if (coreMask != null) {
            return CpuMask.parse(coreMask).cores();
        }
        int n = queues == null ? 1 : queues;
        if (n < 1 || n > 1024) {
            throw new IllegalArgumentException("-m must be from 1 to 1024");
        }
        return IntStream.range(0, n).toArray();
    }

    private int size() {
        long b = ByteSize.parse(ioSize);
        if (b < 1 || b > (1 << 30)) {
            throw new IllegalArgumentException("-o must be from 1 byte to 1 GiB");
        }
        return (int) b;
    }
}
