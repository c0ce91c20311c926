package io.keel.app.perf;

import io.keel.app.bdevperf.ByteSize;
import io.keel.app.bdevperf.Workload;
import io.keel.core.thread.CpuMask;
import io.keel.nvme.host.TransportId;
import java.io.PrintWriter;
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
            "Connect to an NVMe-oF controller over TCP as a host (keel-nvme-host), open one I/O queue per core, each "
                    + "polled by its own thread that keeps -q commands of -o bytes in flight for -t seconds, then "
                    + "print IOPS, MiB/s and latency in microseconds (average, p50, p99, p99.9, min, max) per core "
                    + "and in total, and the bytes the I/O threads allocated per I/O after a warm-up.",
            ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the run finished and no I/O failed", "1:connecting failed, an I/O failed or the check "
                + "read back wrong data", "2:wrong arguments"},
        footerHeading = "%nExamples:%n",
        footer = {
            "  keel perf -r 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2024-11.io.keel:default'"
                    + " -q 32 -o 4096 -w randread -t 5",
            "  keel perf -r '...' -q 16 -o 128k -w randrw -M 70 -t 5 -c 0x3 --hdr-digest --data-digest --check"})
public final class PerfCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-r", "--transport"}, required = true, paramLabel = "TRID",
            description = "Transport ID: 'trtype:TCP adrfam:IPv4 traddr:ADDR trsvcid:PORT subnqn:NQN'")
    String trid;

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
            description = "Cores as a hex mask (0x3) or list ([0,1]): one thread and one I/O queue each")
    String coreMask;

    @Option(names = {"-m", "--queues"}, paramLabel = "N",
            description = "Number of I/O queues (threads), as an alternative to -c. Default: 1")
    Integer queues;

    @Option(names = "-n", defaultValue = "1", paramLabel = "NSID", description = "Namespace ID. Default: ${DEFAULT-VALUE}")
    int nsid;

    @Option(names = {"-H", "--hdr-digest"}, description = "Ask for the NVMe/TCP header digest")
    boolean headerDigest;

    @Option(names = {"-I", "--data-digest"}, description = "Ask for the NVMe/TCP data digest")
    boolean dataDigest;

    @Option(names = "--hostnqn", paramLabel = "NQN", description = "Host NQN. Default: nqn.2014-08.org.nvmexpress:uuid:<random host ID>")
    String hostNqn;

    @Option(names = "-k", defaultValue = "10000", paramLabel = "MS",
            description = "Keep-alive timeout in ms (keep-alives go every half of it; 0: off). Default: ${DEFAULT-VALUE}")
    int keepAliveMs;

    @Option(names = "--seed", defaultValue = "24301", paramLabel = "N", description = "Seed of offsets and the read/write mix")
    long seed;

    @Option(names = "--check", description = "Before the run, write one I/O of a pattern, read it back and compare")
    boolean check;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        PerfOptions options = options(cl);
        PrintWriter out = cl.getOut();
        Perf perf = new Perf(options, out);
        SignalHandler stop = s -> perf.stop();
        SignalHandler previous = Signal.handle(new Signal("INT"), stop);
        PerfResult result;
        try {
            result = perf.run();
        } catch (java.io.IOException e) {
            cl.getErr().println("perf: " + e.getMessage());
            cl.getErr().flush();
            return 1;
        } finally {
            Signal.handle(new Signal("INT"), previous);
        }
        PerfReport.table(result, out);
        return result.errors().isEmpty() ? 0 : 1;
    }

    PerfOptions options(CommandLine cl) {
        try {
            return new PerfOptions(TransportId.parse(trid), cores(), nsid, queueDepth, size(), Workload.fromWire(workload),
                    readPercent == null ? -1 : readPercent, seconds, headerDigest, dataDigest, hostNqn, keepAliveMs,
                    seed, check);
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
