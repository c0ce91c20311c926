package io.keel.core.reactor;

import io.keel.core.thread.CpuMask;

/**
 * How reactors run.
 *
 * @param cores          one reactor per core in the mask ({@code -m})
 * @param interruptMode  park when idle until a message, timer or fd wakes the reactor ({@code --interrupt-mode});
 *                       otherwise busy-poll
 * @param pin            pin each reactor's OS thread to its core
 * @param watchdogMillis report any reactor iteration longer than this (0 disables the watchdog)
 * @param ringCapacity   per-thread message ring slots (a power of two); more messages spill to an overflow queue
 */
public record ReactorOptions(CpuMask cores, boolean interruptMode, boolean pin, long watchdogMillis, int ringCapacity) {
    public static final long DEFAULT_WATCHDOG_MILLIS = 100;
    public static final int DEFAULT_RING_CAPACITY = 4096;

    public static ReactorOptions defaults(CpuMask cores, boolean interruptMode) {
        return new ReactorOptions(cores, interruptMode, false, DEFAULT_WATCHDOG_MILLIS, DEFAULT_RING_CAPACITY);
    }

    public ReactorOptions withPin(boolean p) {
        return new ReactorOptions(cores, interruptMode, p, watchdogMillis, ringCapacity);
    }

    public ReactorOptions withWatchdogMillis(long ms) {
        return new ReactorOptions(cores, interruptMode, pin, ms, ringCapacity);
    }
}
