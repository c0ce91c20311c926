package io.keel.core.reactor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** The few libc calls the reactor needs, through the FFM API. */
public final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int CPU_SET_BYTES = 128; // glibc's cpu_set_t: 1024 cores
    private static final MethodHandle SCHED_SETAFFINITY = find("sched_setaffinity",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle GETTID = find("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle KILL = find("kill",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Native() {
    }

    private static MethodHandle find(String name, FunctionDescriptor fd) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
    }

    /** Pins the calling OS thread to one core; returns false if the kernel refused. */
    public static boolean pinCurrentThread(int core) {
        if (SCHED_SETAFFINITY == null || core >= CPU_SET_BYTES * 8) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(CPU_SET_BYTES);
            set.set(ValueLayout.JAVA_BYTE, core / 8, (byte) (1 << (core % 8)));
            return (int) SCHED_SETAFFINITY.invokeExact(0, (long) CPU_SET_BYTES, set) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The kernel's id of the calling OS thread (what {@code top -H} and SPDK's {@code tid} show); -1 if unknown. */
    public static int currentTid() {
        if (GETTID == null) {
            return -1;
        }
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Sends {@code signal} to process {@code pid}; returns false on failure. */
    public static boolean kill(long pid, int signal) {
        try {
            return KILL != null && (int) KILL.invokeExact((int) pid, signal) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
