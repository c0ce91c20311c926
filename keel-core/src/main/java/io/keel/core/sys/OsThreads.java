package io.keel.core.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The calling OS thread and process: pinning to a core, the kernel's thread id, signals. */
public final class OsThreads {
    private static final int CPU_SET_BYTES = 128; // glibc's cpu_set_t: 1024 cores

    private OsThreads() {
    }

    /** Pins the calling OS thread to one core; returns false if the kernel refused. */
    public static boolean pinCurrentThread(int core) {
        if (Libc.SCHED_SETAFFINITY == null || core >= CPU_SET_BYTES * 8) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(CPU_SET_BYTES);
            set.set(ValueLayout.JAVA_BYTE, core / 8, (byte) (1 << (core % 8)));
            return (int) Libc.SCHED_SETAFFINITY.invokeExact(Libc.callState(arena), 0, (long) CPU_SET_BYTES, set) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The kernel's id of the calling OS thread (what {@code top -H} and SPDK's {@code tid} show); -1 if unknown. */
    public static int currentTid() {
        if (Libc.GETTID == null) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            return (int) Libc.GETTID.invokeExact(Libc.callState(arena));
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Sends {@code signal} to process {@code pid}; returns false on failure. */
    public static boolean kill(long pid, int signal) {
        if (Libc.KILL == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            return (int) Libc.KILL.invokeExact(Libc.callState(arena), (int) pid, signal) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
