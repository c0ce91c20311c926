package io.keel.app.bdevperf;

import io.keel.core.thread.CpuMask;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** {@code keel bdevperf}: SPDK's bdevperf, run in process against the bdevs a config creates. */
@Command(name = "bdevperf", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measure bdevs as SPDK's bdevperf does: start Keel in this process on the cores of -m, create the bdevs "
                    + "of the config given with -c, and run one job per bdev per core (each on a lightweight thread "
                    + "pinned to its core, over its own slice of the bdev, as SPDK's -C does) that keeps -q I/Os of "
                    + "-o bytes in flight for -t seconds. Then print, per job and in total, IOPS, MiB/s, failed and "
                    + "timed-out I/O per second, and latency in microseconds (average, p50, p99, p99.9, min, max), "
                    + "and the bytes the reactor threads allocated per I/O after a warm-up.",
            "",
            "Workloads (-w): read, write, randread, randwrite; rw and randrw mix reads and writes by -M; verify "
                    + "writes a pattern (each block carries its LBA, a per-write generation and the job's seed), "
                    + "reads it back and compares, never with two I/Os to one range at once, and counts both I/Os; "
                    + "reset is verify plus a bdev reset every 10 s (once, half-way, in shorter runs); unmap, flush "
                    + "and write_zeroes issue only that command. Bdevs that lack what the workload needs are "
                    + "skipped.",
            ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:every job finished without a failed I/O or a miscompare",
            "1:an I/O failed, verify read back wrong data, I/O hung, or Keel could not start the bdevs",
            "2:wrong arguments"},
        footerHeading = "%nExamples:%n",
        footer = {
            "  keel bdevperf -c bdevs.json -q 128 -o 4k -w randread -t 5",
            "  keel bdevperf -c bdevs.json -m 0x3 -q 32 -o 128k -w verify -t 10 -T Malloc0",
            "  keel bdevperf -c bdevs.json -q 64 -o 4096 -w randrw -M 70 -t 5 --json",
            "  keel bdevperf -c bdevs.json -z -r /tmp/bp.sock -q 128 -o 4k -w randread -t 5   (then, per test:",
            "    python3 spdk/examples/bdev/bdevperf/bdevperf.py -s /tmp/bp.sock perform_tests [-t 10])",
            "",
            "bdevs.json is an SPDK JSON config, e.g. {\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":"
                    + "\"bdev_malloc_create\",\"params\":{\"name\":\"Malloc0\",\"num_blocks\":32768,\"block_size\":4096}}]}]}"})
public final class BdevperfCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "SPDK JSON config that creates the bdevs to test (required)")
    Path config;

    @Option(names = "-q", paramLabel = "DEPTH", description = "I/Os each job keeps in flight (queue depth)")
    Integer queueDepth;

    @Option(names = "-o", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "I/O size in bytes; k, m and g multiply by 1024 (4096, 4k, 128k, 1m); a multiple of each bdev's block size")
    Integer ioSize;

    @Option(names = "-w", paramLabel = "WORKLOAD", converter = WorkloadConverter.class,
            description = "read, write, randread, randwrite, rw, randrw, verify, reset, unmap, flush or write_zeroes")
    Workload workload;

    @Option(names = "-t", paramLabel = "SECONDS", description = "How long the I/O runs (fractions allowed)")
    Double seconds;

    @Option(names = {"-z", "--wait-for-tests"},
            description = "Start, then run a test per perform_tests RPC (SPDK's bdevperf.py perform_tests [-q -o -w -t "
                    + "-M]) on the RPC socket (-r; default /var/tmp/keel.sock) until SIGINT/SIGTERM; -q -o -w -t may "
                    + "then come with the call instead, and each call's values stay for the next")
    boolean waitForTests;

    @Option(names = "-M", paramLabel = "PERCENT", description = "Reads in 100 I/Os of rw and randrw (required for those, 0 to 100)")
    Integer readPercent;

    @Option(names = {"-T", "--bdev"}, paramLabel = "BDEV",
            description = "Test only this bdev (repeatable). Default: every bdev no module claims")
    List<String> bdevs = new ArrayList<>();

    @Option(names = "--offset", paramLabel = "BLOCKS", defaultValue = "0",
            description = "Jobs work from this block of each bdev on (SPDK's job-config offset), a multiple of -o. Default: 0")
    long offsetBlocks;

    @Option(names = "--length", paramLabel = "BLOCKS", defaultValue = "0",
            description = "Jobs work over this many blocks from --offset (SPDK's job-config length), split among the cores. Default: 0, to the end")
    long lengthBlocks;

    @Option(names = "-k", paramLabel = "SECONDS", defaultValue = "0",
            description = "Count an I/O outstanding longer than this as timed out (TO/s). Default: 0, off")
    double timeoutSeconds;

    @Option(names = "-f", description = "Keep submitting after an I/O fails (the run still exits 1)")
    boolean continueOnFailure;

    @Option(names = {"-m", "--cpumask"}, defaultValue = "0x1", paramLabel = "MASK",
            description = "Reactor cores: hex mask (0x3) or list ([0,1]); one job per bdev per core. Default: ${DEFAULT-VALUE}")
    String cpumask;

    @Option(names = {"-r", "--rpc-socket"}, paramLabel = "PATH",
            description = "JSON-RPC socket of the in-process Keel. Default: a private temporary path")
    Path rpcSocket;

    @Option(names = "--interrupt-mode", description = "Reactors sleep when idle instead of busy-polling (default: poll mode, as SPDK)")
    boolean interruptMode;

    @Option(names = "--pin", description = "Pin each reactor's OS thread to its core")
    boolean pin;

    @Option(names = "--seed", defaultValue = "24301", paramLabel = "N",
            description = "Seed of the random offsets and read/write mix (the same seed gives the same sequence). Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--json", description = "Print the results as JSON (SPDK perform_tests' shape plus percentiles) instead of the table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        BdevperfOptions options = options(cl);
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        Bdevperf bdevperf = new Bdevperf(options, out, err);
        SignalHandler stop = s -> bdevperf.stop();
        SignalHandler previousInt = Signal.handle(new Signal("INT"), stop);
        SignalHandler previousTerm = Signal.handle(new Signal("TERM"), stop);
        BdevperfResult result;
        try {
            result = bdevperf.run();
        } finally {
            Signal.handle(new Signal("INT"), previousInt);
            Signal.handle(new Signal("TERM"), previousTerm);
        }
        if (!waitForTests) { // with -z each test printed its results as it ended
            Report.print(result, options, out);
        }
        if (result.exitCode() != 0) {
            err.println("bdevperf: FAILED" + (result.errors().isEmpty() ? "" : ": " + result.errors().getFirst()));
            err.flush();
        }
        return result.exitCode();
    }

    private BdevperfOptions options(CommandLine cl) {
        CpuMask cores;
        try {
            cores = CpuMask.parse(cpumask);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '-m': " + e.getMessage());
        }
        if (!waitForTests) {
            List<String> missing = new ArrayList<>();
            if (queueDepth == null) {
                missing.add("'-q=DEPTH'");
            }
            if (ioSize == null) {
                missing.add("'-o=SIZE'");
            }
            if (workload == null) {
                missing.add("'-w=WORKLOAD'");
            }
            if (seconds == null) {
                missing.add("'-t=SECONDS'");
            }
            if (!missing.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "Missing required option" + (missing.size() > 1 ? "s" : "")
                        + ": " + String.join(", ", missing));
            }
        }
        if (config != null && !Files.isReadable(config)) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '-c': cannot read config file " + config);
        }
        try {
            return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevs,
                    queueDepth == null ? 0 : queueDepth, ioSize == null ? 0 : ioSize, workload,
                    readPercent == null ? -1 : readPercent, seconds == null ? 0 : seconds, timeoutSeconds,
                    continueOnFailure, seed, json, offsetBlocks, lengthBlocks, waitForTests);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    /** {@code -o}: sizes with k, m, g suffixes. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            long bytes;
            try {
                bytes = ByteSize.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
            if (bytes < 1 || bytes > Integer.MAX_VALUE) {
                throw new CommandLine.TypeConversionException("I/O size must be from 1 byte to 2 GiB, not " + value);
            }
            return (int) bytes;
        }
    }

    /** {@code -w}: SPDK's workload names. */
    static final class WorkloadConverter implements CommandLine.ITypeConverter<Workload> {
        @Override
        public Workload convert(String value) {
            try {
                return Workload.fromWire(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
