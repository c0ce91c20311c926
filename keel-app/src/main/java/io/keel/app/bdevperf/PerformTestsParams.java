package io.keel.app.bdevperf;

/**
 * {@code perform_tests} (bdevperf started with {@code -z}), SPDK's parameter names: each one given replaces the
 * command line's value for this test and the next ones; {@code io_size} takes what {@code -o} takes.
 */
public record PerformTestsParams(Integer timeInSec, String workloadType, Integer queueDepth, String ioSize,
        Integer rwPercentage) {
}
