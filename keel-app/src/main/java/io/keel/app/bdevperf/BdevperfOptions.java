package io.keel.app.bdevperf;

import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.List;

/**
 * What one bdevperf run does (the command line, validated).
 *
 * @param cores             reactor cores ({@code -m}); one job per bdev per core
 * @param config            SPDK JSON config that creates the bdevs ({@code -c})
 * @param rpcSocket         JSON-RPC socket, or null for a private temporary one ({@code -r})
 * @param interruptMode     reactors sleep when idle instead of busy-polling
 * @param pin               pin each reactor's OS thread to its core
 * @param bdevNames         bdevs to test ({@code -T}); empty: every bdev no module claims
 * @param queueDepth        I/Os each job keeps in flight ({@code -q})
 * @param ioSize            bytes per I/O ({@code -o})
 * @param workload          the I/O pattern ({@code -w})
 * @param readPercent       reads in a mixed workload, 0..100 ({@code -M}); -1 when not given
 * @param seconds           how long the I/O runs ({@code -t})
 * @param timeoutSeconds    an I/O outstanding longer than this counts as timed out ({@code -k}); 0: off
 * @param continueOnFailure keep running after an I/O fails ({@code -f}); the run still fails
 * @param seed              base seed of the jobs' random offsets
 * @param json              print the results as JSON instead of a table
 * @param offsetBlocks      jobs work from this block of each bdev on ({@code --offset}; SPDK's job-config
 *                          {@code offset}); a multiple of the I/O size
 * @param lengthBlocks      over this many blocks ({@code --length}; SPDK's job-config {@code length}); 0: to the end
 * @param waitForTests      {@code -z}: start, then run a test per {@code perform_tests} RPC ({@link #forTest}); the
 *                          test values ({@code -q -o -w -t -M}) may then be missing here and come with the RPC
 */
public record BdevperfOptions(CpuMask cores, Path config, Path rpcSocket, boolean interruptMode, boolean pin,
        List<String> bdevNames, int queueDepth, int ioSize, Workload workload, int readPercent, double seconds,
        double timeoutSeconds, boolean continueOnFailure, long seed, boolean json, long offsetBlocks,
        long lengthBlocks, boolean waitForTests) {

    public BdevperfOptions {
        bdevNames = List.copyOf(bdevNames);
        String problem = waitForTests ? setupProblem(config, timeoutSeconds, offsetBlocks, lengthBlocks)
                : problem(config, queueDepth, ioSize, workload, readPercent, seconds, timeoutSeconds, offsetBlocks,
                        lengthBlocks);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Defaults for everything but what a run must say. */
    public static BdevperfOptions of(Path config, Workload workload, int queueDepth, int ioSize, double seconds) {
        return new BdevperfOptions(CpuMask.of(0), config, null, false, false, List.of(), queueDepth, ioSize, workload,
                workload.mixed() ? 50 : -1, seconds, 0, false, 0x5eed, false, 0, 0, false);
    }

    public BdevperfOptions withCores(CpuMask c) {
        return new BdevperfOptions(c, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks, waitForTests);
    }

    public BdevperfOptions withInterruptMode(boolean i) {
        return new BdevperfOptions(cores, config, rpcSocket, i, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks, waitForTests);
    }

    public BdevperfOptions withBdevNames(List<String> names) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, names, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks, waitForTests);
    }

    public BdevperfOptions withReadPercent(int m) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                m, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks, waitForTests);
    }

    public BdevperfOptions withTimeoutSeconds(double k) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, k, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks, waitForTests);
    }

    public BdevperfOptions withRange(long offset, long length) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offset, length, waitForTests);
    }

    /**
     * The options of one {@code perform_tests} run: what the call gives replaces what the command line gave (as
     * SPDK's bdevperf keeps each value for the next call); throws IllegalArgumentException naming what is wrong or
     * still missing.
     */
    public BdevperfOptions forTest(PerformTestsParams p) {
        Workload w = workload;
        int m = readPercent;
        if (p.workloadType() != null) {
            w = Workload.fromWire(p.workloadType());
            m = w.mixed() ? m : -1;
        }
        if (p.rwPercentage() != null) {
            m = p.rwPercentage();
        }
        int qd = p.queueDepth() != null ? p.queueDepth() : queueDepth;
        int size = ioSize;
        if (p.ioSize() != null) {
            long bytes = ByteSize.parse(p.ioSize());
            if (bytes < 1 || bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("io_size must be from 1 byte to 2 GiB, not " + p.ioSize());
            }
            size = (int) bytes;
        }
        double t = p.timeInSec() != null ? p.timeInSec() : seconds;
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, qd, size, w, m, t,
                timeoutSeconds, continueOnFailure, seed, json, offsetBlocks, lengthBlocks, false);
    }

    /** Why these values cannot run, or null if they can (messages name the option, as the user typed it). */
    static String problem(Path config, int queueDepth, int ioSize, Workload workload, int readPercent, double seconds,
            double timeoutSeconds, long offsetBlocks, long lengthBlocks) {
        String setup = setupProblem(config, timeoutSeconds, offsetBlocks, lengthBlocks);
        if (setup != null) {
            return setup;
        }
        if (workload == null) {
            return "a workload (-w) is required: one of " + Workload.names();
        }
        if (queueDepth < 1) {
            return "queue depth (-q) must be at least 1, not " + queueDepth;
        }
        if (ioSize < 1) {
            return "I/O size (-o) must be at least 1 byte, not " + ioSize;
        }
        if (workload.mixed() && (readPercent < 0 || readPercent > 100)) {
            return "-M (read percentage) must be given, 0 to 100, for " + workload.wireName();
        }
        if (!workload.mixed() && readPercent != -1) {
            return "-M (read percentage) applies only to rw and randrw, not " + workload.wireName();
        }
        if (!(seconds > 0) || seconds > 1_000_000) {
            return "run time (-t) must be a positive number of seconds, not " + seconds;
        }
        return null;
    }

    /** What must hold before any test runs (all a {@code -z} start checks). */
    private static String setupProblem(Path config, double timeoutSeconds, long offsetBlocks, long lengthBlocks) {
        if (config == null) {
            return "no bdevs to test: give an SPDK JSON config that creates them with -c FILE";
        }
        if (!(timeoutSeconds >= 0)) {
            return "I/O timeout (-k) cannot be negative, not " + timeoutSeconds;
        }
        if (offsetBlocks < 0 || lengthBlocks < 0) {
            return "--offset and --length cannot be negative, not " + offsetBlocks + " and " + lengthBlocks;
        }
        return null;
    }
}
