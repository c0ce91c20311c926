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
 */
public record BdevperfOptions(CpuMask cores, Path config, Path rpcSocket, boolean interruptMode, boolean pin,
        List<String> bdevNames, int queueDepth, int ioSize, Workload workload, int readPercent, double seconds,
        double timeoutSeconds, boolean continueOnFailure, long seed, boolean json, long offsetBlocks,
        long lengthBlocks) {

    public BdevperfOptions {
        bdevNames = List.copyOf(bdevNames);
        String problem = problem(config, queueDepth, ioSize, workload, readPercent, seconds, timeoutSeconds,
                offsetBlocks, lengthBlocks);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Defaults for everything but what a run must say. */
    public static BdevperfOptions of(Path config, Workload workload, int queueDepth, int ioSize, double seconds) {
        return new BdevperfOptions(CpuMask.of(0), config, null, false, false, List.of(), queueDepth, ioSize, workload,
                workload.mixed() ? 50 : -1, seconds, 0, false, 0x5eed, false, 0, 0);
    }

    public BdevperfOptions withCores(CpuMask c) {
        return new BdevperfOptions(c, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks);
    }

    public BdevperfOptions withInterruptMode(boolean i) {
        return new BdevperfOptions(cores, config, rpcSocket, i, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks);
    }

    public BdevperfOptions withBdevNames(List<String> names) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, names, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks);
    }

    public BdevperfOptions withReadPercent(int m) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                m, seconds, timeoutSeconds, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks);
    }

    public BdevperfOptions withTimeoutSeconds(double k) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, k, continueOnFailure, seed, json, offsetBlocks,
                lengthBlocks);
    }

    public BdevperfOptions withRange(long offset, long length) {
        return new BdevperfOptions(cores, config, rpcSocket, interruptMode, pin, bdevNames, queueDepth, ioSize, workload,
                readPercent, seconds, timeoutSeconds, continueOnFailure, seed, json, offset, length);
    }

    /** Why these values cannot run, or null if they can (messages name the option, as the user typed it). */
    static String problem(Path config, int queueDepth, int ioSize, Workload workload, int readPercent, double seconds,
            double timeoutSeconds, long offsetBlocks, long lengthBlocks) {
        if (config == null) {
            return "no bdevs to test: give an SPDK JSON config that creates them with -c FILE";
        }
        if (queueDepth < 1) {
            return "queue depth (-q) must be at least 1, not " + queueDepth;
        }
        if (ioSize < 1) {
            return "I/O size (-o) must be at least 1 byte, not " + ioSize;
        }
        if (workload == null) {
            return "a workload (-w) is required: one of " + Workload.names();
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
        if (!(timeoutSeconds >= 0)) {
            return "I/O timeout (-k) cannot be negative, not " + timeoutSeconds;
        }
        if (offsetBlocks < 0 || lengthBlocks < 0) {
            return "--offset and --length cannot be negative, not " + offsetBlocks + " and " + lengthBlocks;
        }
        return null;
    }
}
