package io.keel.core.time;

/**
 * The framework's source of time. Every module reads time through the clock of the runtime it runs on,
 * never {@code System.nanoTime()} directly, so a simulation can substitute simulated time (rule R9).
 * One tick is one nanosecond.
 */
public interface Clock {
    /** Monotonic time in nanoseconds. */
    long nanoTime();

    /** Ticks per second, as SPDK reports {@code tick_rate}. */
    default long tickRate() {
        return 1_000_000_000L;
    }
}
