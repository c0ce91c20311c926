package io.keel.core.reactor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.channels.SelectableChannel;

/**
 * The few libc calls the reactor and the socket paths need, through the FFM API: pinning, thread ids, signals, and
 * {@code readv} on a socket a NIO channel owns (for reads straight into an I/O's buffers).
 */
public final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    /** errno values (asm-generic/errno-base.h; x86_64 and aarch64 agree). */
    public static final int EAGAIN = 11;
    /** One {@code struct iovec}: base address and length. */
    public static final long IOVEC_BYTES = 16;
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle READV = find("readv",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    /** {@code sun.nio.ch.SelChImpl.getFDVal()}, where the JVM runs with {@code --add-exports java.base/sun.nio.ch}. */
    private static final MethodHandle FD_VAL = fdValHandle();
    private static final int CPU_SET_BYTES = 128; // glibc's cpu_set_t: 1024 cores
    private static final MethodHandle SCHED_SETAFFINITY = find("sched_setaffinity",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle GETTID = find("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle KILL = find("kill",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Native() {
    }

    private static MethodHandle find(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd, options)).orElse(null);
    }

    private static MethodHandle fdValHandle() {
        try {
            Class<?> c = Class.forName("sun.nio.ch.SelChImpl");
            return MethodHandles.lookup().findVirtual(c, "getFDVal", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // package not exported to us: callers fall back to NIO
        }
    }

    /**
     * The file descriptor of a NIO channel, or -1 where the JDK does not let us see it. The channel keeps owning it:
     * use it only on the channel's owner thread, while the channel is open.
     */
    public static int fdOf(SelectableChannel channel) {
        if (FD_VAL == null || READV == null) {
            return -1;
        }
        try {
            return (int) FD_VAL.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** A call-state segment for {@link #readv}: one per caller, reused (no allocation per call). */
    public static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /**
     * {@code readv(fd, iov, count)}: the bytes read, 0 at end of stream, or {@code -errno} ({@code -EAGAIN}: nothing
     * there on a non-blocking socket). {@code iov} holds {@code count} {@code struct iovec}s ({@link #IOVEC_BYTES}).
     */
    public static long readv(int fd, MemorySegment iov, int count, MemorySegment callState) {
        try {
            long n = (long) READV.invokeExact(callState, fd, iov, count);
            return n >= 0 ? n : -(int) ERRNO.get(callState, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("readv failed", t);
        }
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
