package io.keel.core.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Every libc entry point Keel calls, bound once, as FFM downcall handles. A handle that can fail captures
 * {@code errno} into a caller-supplied call-state segment (its leading parameter, from {@link #callState}), except
 * the few a reactor calls per I/O or per wake-up: capturing allocates a view of the call state per call where C2 does
 * not remove it (under C1 always, 40 bytes), so those are bound without it, say so, and their callers read errno
 * with {@link #errnoNow}. A handle is {@code null} when libc lacks the symbol; callers check.
 * The typed helpers in this package ({@link EventFd}, {@link Epoll}, {@link Poll}, {@link UnixSocket},
 * {@link SharedMemory}) return {@code -errno} on failure rather than throwing, as the kernel does.
 */
public final class Libc {
    private Libc() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    public static final String ARCH = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    public static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");
    public static final boolean AARCH64 = ARCH.equals("aarch64") || ARCH.equals("arm64");
    public static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    /** The constants below are right on these; elsewhere callers report themselves unavailable. */
    public static final boolean SUPPORTED_PLATFORM = LINUX && (X86_64 || AARCH64);

    // errno values (asm-generic/errno-base.h, errno.h; x86_64 and aarch64 agree)
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;

    // open(2) flags
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_DIRECT = AARCH64 ? 0200000 : 040000;

    // fcntl(2) commands
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;

    // mmap(2), madvise(2)
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final long MAP_FAILED = -1L;
    public static final int MADV_HUGEPAGE = 14;

    /** One {@code struct iovec}: base address and length. */
    public static final long IOVEC_BYTES = 16;

    /** {@code long syscall(long nr, long a1, void *a2)}. */
    public static final MethodHandle SYSCALL_L_P = variadic("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    /**
     * {@code long syscall(long nr, long a1..a6)}, without errno capture: it is io_uring_enter's, on a reactor's I/O
     * path, and a capturing downcall allocates 40 bytes per call under C1. After -1, read errno with {@link #errnoNow}.
     */
    public static final MethodHandle SYSCALL_6L = variadicPlain("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    /** {@code long syscall(long nr, long a1, long a2, void *a3, long a4)}. */
    public static final MethodHandle SYSCALL_L_L_P_L = variadic("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG));
    /** {@code void *aligned_alloc(size_t alignment, size_t size)}, no errno: NULL means out of memory. */
    public static final MethodHandle ALIGNED_ALLOC = plain("aligned_alloc",
            FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
    /** {@code void free(void *p)}. */
    public static final MethodHandle FREE = plain("free", FunctionDescriptor.ofVoid(ADDRESS));
    public static final MethodHandle MMAP = fixed("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    public static final MethodHandle MUNMAP = fixed("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    public static final MethodHandle MADVISE = fixed("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    public static final MethodHandle OPEN = variadic("open", 2,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    public static final MethodHandle FCNTL = variadic("fcntl", 2,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    public static final MethodHandle CLOSE = fixed("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    public static final MethodHandle DUP2 = fixed("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    public static final MethodHandle FTRUNCATE = fixed("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    public static final MethodHandle IOCTL_P = variadic("ioctl", 2,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    public static final MethodHandle STATX = fixed("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    public static final MethodHandle PREAD = fixed("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    public static final MethodHandle READ = fixed("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    public static final MethodHandle WRITE = fixed("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    public static final MethodHandle READV = fixed("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    /** {@code readv} without the errno capture: see {@link #readv}. */
    private static final MethodHandle READV_PLAIN = plain("readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle EVENTFD = fixed("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    public static final MethodHandle MEMFD_CREATE = fixed("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle SOCKETPAIR = fixed("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    public static final MethodHandle SOCKET = fixed("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    public static final MethodHandle BIND = fixed("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle CONNECT = fixed("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle LISTEN = fixed("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    public static final MethodHandle ACCEPT4 = fixed("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    public static final MethodHandle SENDMSG = fixed("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    /** {@code sendmsg} without the errno capture: see {@link #sendmsg}. */
    private static final MethodHandle SENDMSG_PLAIN = plain("sendmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle RECVMSG = fixed("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    public static final MethodHandle POLL = fixed("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    public static final MethodHandle EPOLL_CREATE1 = fixed("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    public static final MethodHandle EPOLL_CTL = fixed("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    /**
     * {@code epoll_wait} for a look that never blocks (timeout 0): a critical downcall (no thread-state transition)
     * without errno capture, whose capture segment C2 does not always manage to keep off the heap on a reactor's path.
     */
    public static final MethodHandle EPOLL_WAIT_NOW = critical("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    /** {@code epoll_wait} to sleep in: errno is not captured (an interrupted wait is simply looked at again). */
    public static final MethodHandle EPOLL_WAIT = plain("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    /** Null where the C library predates it (glibc 2.35); {@link Epoll#wait} falls back to whole milliseconds. */
    public static final MethodHandle EPOLL_PWAIT2 = plain("epoll_pwait2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    /** The same, with errno: to learn once whether the kernel has it. */
    public static final MethodHandle EPOLL_PWAIT2_ERRNO = fixed("epoll_pwait2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    public static final MethodHandle SCHED_SETAFFINITY = fixed("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    public static final MethodHandle GETTID = fixed("gettid", FunctionDescriptor.of(JAVA_INT));
    public static final MethodHandle KILL = fixed("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** With the errno captured into the call state passed first. */
    private static MethodHandle fixed(String name, FunctionDescriptor fd) {
        return downcall(name, fd, ERRNO_OPTION);
    }

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return downcall(name, fd);
    }

    private static MethodHandle critical(String name, FunctionDescriptor fd) {
        return downcall(name, fd, Linker.Option.critical(false));
    }

    /** With the errno captured, the arguments from {@code firstVariadic} on passed as C varargs. */
    private static MethodHandle variadic(String name, int firstVariadic, FunctionDescriptor fd) {
        return downcall(name, fd, ERRNO_OPTION, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** As {@link #variadic}, without the errno capture (which allocates per call when not inlined). */
    private static MethodHandle variadicPlain(String name, int firstVariadic, FunctionDescriptor fd) {
        return downcall(name, fd, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** The C library's {@code name}, or null where it has none. */
    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd, options)).orElse(null);
    }

    /** A segment to pass as the leading argument of the handles above: one per caller, reused. */
    public static MemorySegment callState(SegmentAllocator arena) {
        return arena.allocate(CALL_STATE);
    }

    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** libc's {@code __errno_location()}: the calling thread's errno, as an address. */
    private static final MethodHandle ERRNO_LOCATION = plain("__errno_location", FunctionDescriptor.of(JAVA_LONG));
    /** All of the address space, to read errno where {@code __errno_location} says without a segment per read. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * The calling thread's errno, read right after a call bound without capture (a capturing downcall allocates
     * 40 bytes per call under C1); the JVM may in rare cases change it in between, so use it where a wrong value
     * costs no more than a wrong log line or one more look. Allocates nothing.
     */
    public static int errnoNow() {
        try {
            return EVERYTHING.get(JAVA_INT, (long) ERRNO_LOCATION.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code rc} when it is not negative, else {@code -errno} read from {@code callState}. */
    static long orErrno(long rc, MemorySegment callState) {
        return rc >= 0 ? rc : -errno(callState);
    }

    /** libc's text for an errno value, e.g. "Invalid argument". */
    public static String strerror(int errno) {
        if (STRERROR != null) {
            try {
                MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
                if (!s.equals(MemorySegment.NULL)) {
                    return s.reinterpret(1024).getString(0);
                }
            } catch (Throwable ignored) {
                // fall through to the number
            }
        }
        return "errno " + errno;
    }

    /** Rethrows what a downcall threw: FFM handles throw only errors (e.g. a linkage problem), never checked. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /** {@code close(fd)}: 0 or {@code -errno}. */
    public static int close(int fd, MemorySegment callState) {
        try {
            return (int) orErrno((int) CLOSE.invokeExact(callState, fd), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds {@code O_NONBLOCK} to an fd's status flags (an fd a library opened, e.g. an event channel's): 0 or {@code -errno}. */
    public static int setNonBlocking(int fd, MemorySegment callState) {
        try {
            int flags = (int) FCNTL.invokeExact(callState, fd, F_GETFL, 0);
            if (flags < 0) {
                return -errno(callState);
            }
            return (int) orErrno((int) FCNTL.invokeExact(callState, fd, F_SETFL, flags | O_NONBLOCK), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Closes an fd, ignoring errors (cleanup paths). */
    public static void closeQuietly(int fd) {
        if (fd < 0 || CLOSE == null) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(callState(a), fd);
        } catch (Throwable ignored) {
            // best effort
        }
    }

    /** {@code read(fd, buf, count)}: bytes read, 0 at end, or {@code -errno}. */
    public static long read(int fd, MemorySegment buf, long count, MemorySegment callState) {
        try {
            return orErrno((long) READ.invokeExact(callState, fd, buf, count), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code write(fd, buf, count)}: bytes written or {@code -errno}. */
    public static long write(int fd, MemorySegment buf, long count, MemorySegment callState) {
        try {
            return orErrno((long) WRITE.invokeExact(callState, fd, buf, count), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code readv(fd, iov, count)}: the bytes read, 0 at end of stream, or {@code -errno} ({@code -EAGAIN}: nothing
     * there on a non-blocking socket). {@code iov} holds {@code count} {@code struct iovec}s ({@link #IOVEC_BYTES}).
     * For a data path: the call is bound without the errno capture (which allocates per call until C2 has compiled
     * the caller) and made once more with it only when it failed, to learn why.
     */
    public static long readv(int fd, MemorySegment iov, int count, MemorySegment callState) {
        try {
            long n = (long) READV_PLAIN.invokeExact(fd, iov, count);
            return n >= 0 ? n : orErrno((long) READV.invokeExact(callState, fd, iov, count), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sendmsg(fd, msg, flags)} for a data path: the bytes sent or {@code -errno} ({@code -EAGAIN}: no room on a
     * non-blocking socket). Bound without the errno capture and made once more with it only when it failed, as
     * {@link #readv}.
     */
    public static long sendmsg(int fd, MemorySegment msg, int flags, MemorySegment callState) {
        try {
            long n = (long) SENDMSG_PLAIN.invokeExact(fd, msg, flags);
            return n >= 0 ? n : orErrno((long) SENDMSG.invokeExact(callState, fd, msg, flags), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code dup2(from, to)}: {@code to} or {@code -errno}. */
    public static int dup2(int from, int to, MemorySegment callState) {
        try {
            return (int) orErrno((int) DUP2.invokeExact(callState, from, to), callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
