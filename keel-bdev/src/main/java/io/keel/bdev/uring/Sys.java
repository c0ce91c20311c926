package io.keel.bdev.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The libc entry points and kernel constants this package uses, as FFM downcall handles. Every handle that can
 * fail captures {@code errno} into a caller-supplied segment (its leading parameter), so the hot path reads
 * errno without allocating. A handle is {@code null} when libc lacks the symbol; callers check.
 */
final class Sys {
    private Sys() {
    }

    static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static final String ARCH = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");
    static final boolean AARCH64 = ARCH.equals("aarch64") || ARCH.equals("arm64");
    static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    /** The syscall numbers and open flags below are right on these; elsewhere the package reports itself unavailable. */
    static final boolean SUPPORTED_PLATFORM = LINUX && (X86_64 || AARCH64);

    // io_uring syscalls: the same numbers on every architecture (asm-generic table, added in 5.1).
    static final long NR_IO_URING_SETUP = 425;
    static final long NR_IO_URING_ENTER = 426;
    static final long NR_IO_URING_REGISTER = 427;

    // errno values (asm-generic/errno-base.h, errno.h; x86_64 and aarch64 agree)
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EFAULT = 14;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int ENODEV = 19;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EMFILE = 24;
    static final int ENOTTY = 25;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;

    // open(2) flags
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_CLOEXEC = 02000000;
    static final int O_DIRECT = AARCH64 ? 0200000 : 040000;

    // mmap(2)
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_POPULATE = 0x8000;
    static final long MAP_FAILED = -1L;

    // <linux/fs.h> block device ioctls
    static final long BLKSSZGET = 0x1268;
    static final long BLKGETSIZE64 = 0x80081272L;

    // statx(2)
    static final int AT_EMPTY_PATH = 0x1000;
    static final int STATX_MODE = 0x0002;
    static final int STATX_SIZE = 0x0200;
    static final int STATX_DIOALIGN = 0x2000;
    static final int STATX_BUF_SIZE = 256;
    static final long STX_MASK = 0x00;
    static final long STX_BLKSIZE = 0x04;
    static final long STX_MODE = 0x1c;
    static final long STX_SIZE = 0x28;
    static final long STX_DIO_MEM_ALIGN = 0x98;
    static final long STX_DIO_OFFSET_ALIGN = 0x9c;
    static final int S_IFMT = 0170000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;

    /** {@code long syscall(long nr, long a1, void *a2)}: io_uring_setup(entries, params). */
    static final MethodHandle SYSCALL_L_P = variadic("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    /** {@code long syscall(long nr, long a1..a6)}: io_uring_enter(fd, to_submit, min_complete, flags, argp, argsz). */
    static final MethodHandle SYSCALL_6L = variadic("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    /** {@code long syscall(long nr, long a1, long a2, void *a3, long a4)}: io_uring_register(fd, op, arg, nr_args). */
    static final MethodHandle SYSCALL_L_L_P_L = variadic("syscall", 1,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle MMAP = fixed("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    static final MethodHandle MUNMAP = fixed("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle OPEN = variadic("open", 2,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle CLOSE = fixed("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle FTRUNCATE = fixed("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    static final MethodHandle IOCTL_P = variadic("ioctl", 2,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle STATX = fixed("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle PREAD = fixed("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle EVENTFD = fixed("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle READ = fixed("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle STRERROR = LINKER.defaultLookup().find("strerror")
            .map(a -> LINKER.downcallHandle(a, FunctionDescriptor.of(ADDRESS, JAVA_INT)))
            .orElse(null);

    private static MethodHandle fixed(String name, FunctionDescriptor fd) {
        return LINKER.defaultLookup().find(name)
                .map(a -> LINKER.downcallHandle(a, fd, ERRNO_OPTION))
                .orElse(null);
    }

    private static MethodHandle variadic(String name, int firstVariadic, FunctionDescriptor fd) {
        return LINKER.defaultLookup().find(name)
                .map(a -> LINKER.downcallHandle(a, fd, ERRNO_OPTION, Linker.Option.firstVariadicArg(firstVariadic)))
                .orElse(null);
    }

    /** A segment to pass as the leading argument of the handles above; read it with {@link #errno}. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** libc's text for an errno value, e.g. "Invalid argument". */
    static String strerror(int errno) {
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
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /** Closes an fd, ignoring errors (cleanup paths). */
    static void closeQuietly(int fd) {
        if (fd < 0 || CLOSE == null) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(callState(a), fd);
        } catch (Throwable ignored) {
            // best effort
        }
    }
}
