package io.keel.bdev.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance, driven through the raw {@code io_uring_setup}/{@code io_uring_enter} system calls and
 * its mmap'd submission and completion rings.
 *
 * <p><b>Ownership.</b> Not thread-safe and needs no locks: one owner (a Keel lightweight thread) prepares,
 * submits and reaps. The owner may be a different OS thread from the one that opened the ring, provided the
 * hand-over happens-before (as a Keel message does). One ring per owner thread.
 *
 * <p><b>Flow.</b> {@code prepareXxx} writes a submission entry (SQE) and returns {@code false} when there is no
 * room; {@link #submit} hands everything prepared to the kernel in one {@code io_uring_enter}; {@link #reap}
 * reads completions (CQEs) straight from the shared ring, without a system call, and passes each to a
 * {@link CompletionHandler}. Failures of single I/Os arrive as {@code res = -errno}; they are never thrown.
 *
 * <p><b>No allocation per I/O.</b> prepare, submit and reap write and read the mapped rings through
 * {@link MemorySegment} accessors and pass only primitives; {@code io_uring_enter} is bound without errno capture
 * (which allocates per call under C1), its errno read after a failure with {@code Libc.errnoNow()}.
 *
 * <p><b>Bounds.</b> At most {@link #sqEntries()} entries wait prepared, and at most {@link #cqEntries()} I/Os are
 * outstanding (prepared + submitted but not yet reaped), so the completion ring can never overflow and no
 * completion is ever lost or held back in the kernel.
 *
 * <p><b>Buffers.</b> The memory an I/O reads into or writes from (and an iovec array) must be native, must stay
 * valid until that I/O's completion has been reaped, and for O_DIRECT must be aligned (see {@link IoBuffers}).
 */
public final class IoUring implements AutoCloseable {
    /** The kernel's limit on submission ring entries (IORING_MAX_ENTRIES). */
    public static final int MAX_ENTRIES = 32768;

    // opcodes (enum io_uring_op)
    private static final byte OP_NOP = 0;
    private static final byte OP_READV = 1;
    private static final byte OP_WRITEV = 2;
    private static final byte OP_FSYNC = 3;
    private static final byte OP_READ = 22;
    private static final byte OP_WRITE = 23;
    private static final int FSYNC_DATASYNC = 1;

    // struct io_uring_sqe (64 bytes)
    private static final long SQE_SIZE = 64;
    private static final long SQE_OPCODE = 0;     // u8
    private static final long SQE_FLAGS = 1;      // u8
    private static final long SQE_IOPRIO = 2;     // u16
    private static final long SQE_FD = 4;         // s32
    private static final long SQE_OFF = 8;        // u64
    private static final long SQE_ADDR = 16;      // u64
    private static final long SQE_LEN = 24;       // u32
    private static final long SQE_OP_FLAGS = 28;  // u32: rw_flags, fsync_flags, ...
    private static final long SQE_USER_DATA = 32; // u64
    private static final long SQE_TAIL = 40;      // buf_index, personality, splice_fd_in, addr3, pad: 24 bytes

    // struct io_uring_cqe (16 bytes)
    private static final long CQE_SIZE = 16;
    private static final long CQE_USER_DATA = 0;  // u64
    private static final long CQE_RES = 8;        // s32

    // struct io_uring_params (120 bytes) with io_sqring_offsets at 40 and io_cqring_offsets at 80
    private static final long PARAMS_SIZE = 120;
    private static final long P_SQ_ENTRIES = 0;
    private static final long P_CQ_ENTRIES = 4;
    private static final long P_FLAGS = 8;
    private static final long P_FEATURES = 20;
    private static final long P_SQ_OFF = 40;
    private static final long P_CQ_OFF = 80;
    private static final long SQO_HEAD = 0;
    private static final long SQO_TAIL = 4;
    private static final long SQO_RING_MASK = 8;
    private static final long SQO_FLAGS = 16;
    private static final long SQO_ARRAY = 24;
    private static final long CQO_HEAD = 0;
    private static final long CQO_TAIL = 4;
    private static final long CQO_RING_MASK = 8;
    private static final long CQO_CQES = 20;

    private static final int SETUP_SUBMIT_ALL = 1 << 7;
    private static final long OFF_SQ_RING = 0L;
    private static final long OFF_CQ_RING = 0x8000000L;
    private static final long OFF_SQES = 0x10000000L;
    private static final int ENTER_GETEVENTS = 1;
    private static final int SQ_CQ_OVERFLOW = 1 << 1;
    private static final int REGISTER_EVENTFD = 4;
    private static final int UNREGISTER_EVENTFD = 5;

    /** IORING_FEAT_SINGLE_MMAP: both rings come from one mapping (5.4+). */
    public static final int FEAT_SINGLE_MMAP = 1;
    /** IORING_FEAT_NODROP: the kernel never drops a completion (5.5+). */
    public static final int FEAT_NODROP = 1 << 1;
    /** IORING_FEAT_SUBMIT_STABLE: SQE data (iovecs included) is consumed by the time submit returns (5.5+). */
    public static final int FEAT_SUBMIT_STABLE = 1 << 2;

    /** Plain int access with acquire/release modes on a mapped ring; coordinates (segment, offset). */
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final NativeArena arena;
    private final int ringFd;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final MemorySegment callState;
    private final long sqHeadOff;
    private final long sqTailOff;
    private final long sqFlagsOff;
    private final long cqHeadOff;
    private final long cqTailOff;
    private final long cqesOff;
    private final int sqEntries;
    private final int sqMask;
    private final int cqEntries;
    private final int cqMask;
    private final int features;
    private final int setupFlags;

    /** Next SQE slot to fill; published to the kernel's tail in submit. */
    private int sqTail;
    /** The kernel's SQ head as last read; without SQPOLL it moves only inside io_uring_enter. */
    private int sqHead;
    /** Our CQ head; published to the kernel after each reap. */
    private int cqHead;
    /** Submitted to the kernel and not yet reaped. */
    private int inFlight;
    private boolean closed;

    private IoUring(NativeArena arena, int ringFd, MemorySegment params, MemorySegment sqRing, MemorySegment cqRing,
                    MemorySegment sqes, MemorySegment callState) {
        this.arena = arena;
        this.ringFd = ringFd;
        this.sqRing = sqRing;
        this.cqRing = cqRing;
        this.sqes = sqes;
        this.callState = callState;
        this.sqEntries = params.get(JAVA_INT, P_SQ_ENTRIES);
        this.cqEntries = params.get(JAVA_INT, P_CQ_ENTRIES);
        this.setupFlags = params.get(JAVA_INT, P_FLAGS);
        this.features = params.get(JAVA_INT, P_FEATURES);
        this.sqHeadOff = u32(params, P_SQ_OFF + SQO_HEAD);
        this.sqTailOff = u32(params, P_SQ_OFF + SQO_TAIL);
        this.sqFlagsOff = u32(params, P_SQ_OFF + SQO_FLAGS);
        this.sqMask = sqRing.get(JAVA_INT, u32(params, P_SQ_OFF + SQO_RING_MASK));
        this.cqHeadOff = u32(params, P_CQ_OFF + CQO_HEAD);
        this.cqTailOff = u32(params, P_CQ_OFF + CQO_TAIL);
        this.cqesOff = u32(params, P_CQ_OFF + CQO_CQES);
        this.cqMask = cqRing.get(JAVA_INT, u32(params, P_CQ_OFF + CQO_RING_MASK));
        this.sqHead = (int) INT.getAcquire(sqRing, sqHeadOff);
        this.sqTail = (int) INT.getAcquire(sqRing, sqTailOff);
        this.cqHead = (int) INT.getAcquire(cqRing, cqHeadOff);
        // SQE slot i is always array entry i, so submit only has to move the tail.
        long array = u32(params, P_SQ_OFF + SQO_ARRAY);
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(JAVA_INT, array + 4L * i, i);
        }
    }

    private static long u32(MemorySegment s, long offset) {
        return Integer.toUnsignedLong(s.get(JAVA_INT, offset));
    }

    /**
     * Creates a ring with {@code entries} submission slots (rounded up to a power of two by the kernel) and twice
     * as many completion slots.
     *
     * @throws IoUringUnavailableException when the kernel refuses io_uring (with its errno) or the platform is not
     *                                     Linux on x86_64/aarch64
     * @throws IllegalArgumentException    when entries is outside 1..{@value #MAX_ENTRIES}
     */
    public static IoUring open(int entries) throws IoUringUnavailableException {
        if (entries < 1 || entries > MAX_ENTRIES) {
            throw new IllegalArgumentException("entries must be 1.." + MAX_ENTRIES + ": " + entries);
        }
        if (!Libc.SUPPORTED_PLATFORM || Libc.SYSCALL_L_P == null || Libc.SYSCALL_6L == null || Libc.MMAP == null
                || Libc.MUNMAP == null || Libc.CLOSE == null) {
            throw new IoUringUnavailableException("needs Linux on x86_64 or aarch64 with glibc, this is "
                    + System.getProperty("os.name") + " on " + Libc.ARCH, Libc.ENOSYS);
        }
        NativeArena arena = new NativeArena();
        int fd = -1;
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            MemorySegment params = temp.allocate(PARAMS_SIZE, 8);
            params.set(JAVA_INT, P_FLAGS, SETUP_SUBMIT_ALL);
            fd = (int) (long) Libc.SYSCALL_L_P.invokeExact(callState, Sys.NR_IO_URING_SETUP, (long) entries, params);
            if (fd < 0 && Libc.errno(callState) == Libc.EINVAL) {
                // kernels before 5.18 lack IORING_SETUP_SUBMIT_ALL
                params.fill((byte) 0);
                fd = (int) (long) Libc.SYSCALL_L_P.invokeExact(callState, Sys.NR_IO_URING_SETUP, (long) entries,
                        params);
            }
            if (fd < 0) {
                throw new IoUringUnavailableException("io_uring_setup(" + entries + ")", Libc.errno(callState));
            }
            int sqN = params.get(JAVA_INT, P_SQ_ENTRIES);
            int cqN = params.get(JAVA_INT, P_CQ_ENTRIES);
            long sqRingSize = u32(params, P_SQ_OFF + SQO_ARRAY) + 4L * sqN;
            long cqRingSize = u32(params, P_CQ_OFF + CQO_CQES) + CQE_SIZE * cqN;
            boolean single = (params.get(JAVA_INT, P_FEATURES) & FEAT_SINGLE_MMAP) != 0;
            MemorySegment sqRing;
            MemorySegment cqRing;
            if (single) {
                sqRing = map(arena, callState, fd, Math.max(sqRingSize, cqRingSize), OFF_SQ_RING, "SQ/CQ ring");
                cqRing = sqRing;
            } else {
                sqRing = map(arena, callState, fd, sqRingSize, OFF_SQ_RING, "SQ ring");
                cqRing = map(arena, callState, fd, cqRingSize, OFF_CQ_RING, "CQ ring");
            }
            MemorySegment sqes = map(arena, callState, fd, SQE_SIZE * sqN, OFF_SQES, "SQEs");
            return new IoUring(arena, fd, params, sqRing, cqRing, sqes, callState);
        } catch (Throwable t) {
            arena.close(); // unmaps whatever was mapped
            Libc.closeQuietly(fd);
            if (t instanceof IoUringUnavailableException e) {
                throw e;
            }
            throw Libc.rethrow(t);
        }
    }

    private static MemorySegment map(NativeArena arena, MemorySegment callState, int fd, long size, long offset,
                                     String what) throws Throwable {
        MemorySegment addr = (MemorySegment) Libc.MMAP.invokeExact(callState, MemorySegment.NULL, size,
                Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (addr.address() == Libc.MAP_FAILED) {
            throw new IoUringUnavailableException("mmap of the " + what + " (" + size + " bytes)",
                    Libc.errno(callState));
        }
        return arena.adoptMapping(addr, size);
    }

    // ---------------------------------------------------------------- prepare

    /**
     * Prepares {@code read(fd, buf, len)} at {@code offset} ({@code -1}: the file position).
     *
     * @return false when the submission ring is full or {@link #cqEntries()} I/Os are outstanding
     */
    public boolean prepareRead(int fd, MemorySegment buf, long len, long offset, long userData) {
        checkBuffer(buf, len);
        return push(OP_READ, fd, offset, buf.address(), (int) len, 0, userData);
    }

    /** Prepares {@code write(fd, buf, len)} at {@code offset}; see {@link #prepareRead}. */
    public boolean prepareWrite(int fd, MemorySegment buf, long len, long offset, long userData) {
        checkBuffer(buf, len);
        return push(OP_WRITE, fd, offset, buf.address(), (int) len, 0, userData);
    }

    /** Prepares {@code preadv(fd, iov[0..count), offset)}; the iovecs must stay valid until completion. */
    public boolean prepareReadv(int fd, IoVecArray iov, int count, long offset, long userData) {
        checkIov(iov, count);
        return push(OP_READV, fd, offset, iov.address(), count, 0, userData);
    }

    /** Prepares {@code pwritev(fd, iov[0..count), offset)}; the iovecs must stay valid until completion. */
    public boolean prepareWritev(int fd, IoVecArray iov, int count, long offset, long userData) {
        checkIov(iov, count);
        return push(OP_WRITEV, fd, offset, iov.address(), count, 0, userData);
    }

    /**
     * Prepares {@code fsync(fd)}, or {@code fdatasync(fd)} when {@code dataSync}. It is not ordered against other
     * prepared I/Os: submit it after the writes it must cover have completed.
     */
    public boolean prepareFsync(int fd, boolean dataSync, long userData) {
        return push(OP_FSYNC, fd, 0L, 0L, 0, dataSync ? FSYNC_DATASYNC : 0, userData);
    }

    /** Prepares a no-op that completes with res 0 (wakes a waiter, tests the ring). */
    public boolean prepareNop(long userData) {
        return push(OP_NOP, -1, 0L, 0L, 0, 0, userData);
    }

    private static void checkBuffer(MemorySegment buf, long len) {
        if (!buf.isNative()) {
            throw new IllegalArgumentException("buffer must be native (off-heap)");
        }
        if (len < 0 || len > buf.byteSize() || len > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("length " + len + " outside buffer of " + buf.byteSize() + " bytes");
        }
    }

    private static void checkIov(IoVecArray iov, int count) {
        if (count < 0 || count > iov.capacity()) {
            throw new IllegalArgumentException("iovec count " + count + " outside 0.." + iov.capacity());
        }
    }

    private boolean push(byte opcode, int fd, long off, long addr, int len, int opFlags, long userData) {
        checkOpen();
        int queued = sqTail - sqHead;
        if (queued >= sqEntries || inFlight + queued >= cqEntries) {
            return false;
        }
        MemorySegment s = sqes;
        long o = (sqTail & sqMask) * SQE_SIZE;
        s.set(JAVA_BYTE, o + SQE_OPCODE, opcode);
        s.set(JAVA_BYTE, o + SQE_FLAGS, (byte) 0);
        s.set(JAVA_SHORT, o + SQE_IOPRIO, (short) 0);
        s.set(JAVA_INT, o + SQE_FD, fd);
        s.set(JAVA_LONG, o + SQE_OFF, off);
        s.set(JAVA_LONG, o + SQE_ADDR, addr);
        s.set(JAVA_INT, o + SQE_LEN, len);
        s.set(JAVA_INT, o + SQE_OP_FLAGS, opFlags);
        s.set(JAVA_LONG, o + SQE_USER_DATA, userData);
        s.set(JAVA_LONG, o + SQE_TAIL, 0L);
        s.set(JAVA_LONG, o + SQE_TAIL + 8, 0L);
        s.set(JAVA_LONG, o + SQE_TAIL + 16, 0L);
        sqTail++;
        return true;
    }

    // ---------------------------------------------------------------- submit

    /**
     * Hands every prepared entry to the kernel with one {@code io_uring_enter}; never waits for completions.
     *
     * @return how many entries the kernel took (each will produce exactly one completion); 0 when nothing was
     * prepared or the kernel is short of resources (EAGAIN, EBUSY), in which case the entries stay prepared and
     * the next submit retries them
     * @throws IoUringException when the ring itself is broken (not for failures of single I/Os)
     */
    public int submit() {
        return enter(0, 0);
    }

    /**
     * Submits like {@link #submit} and then blocks until at least {@code minComplete} completions are ready to
     * reap. The wait is capped at what can arrive (outstanding I/Os), so it never waits forever. This blocks the
     * calling thread: for tests, tools and threads allowed to sleep, never on a reactor.
     */
    public int submitAndWait(int minComplete) {
        checkOpen();
        int outstanding = inFlight + (sqTail - sqHead);
        int min = Math.min(Math.max(minComplete, 0), outstanding);
        return enter(min, min > 0 ? ENTER_GETEVENTS : 0);
    }

    private int enter(int minComplete, int flags) {
        checkOpen();
        int before = sqHead;
        int toSubmit = sqTail - before;
        if (((int) INT.getAcquire(sqRing, sqFlagsOff) & SQ_CQ_OVERFLOW) != 0) {
            flags |= ENTER_GETEVENTS; // flush completions the kernel held back (cannot happen within our bounds)
        } else if (toSubmit == 0 && minComplete == 0) {
            return 0;
        }
        INT.setRelease(sqRing, sqTailOff, sqTail);
        try {
            while (true) {
                long r = (long) Libc.SYSCALL_6L.invokeExact(Sys.NR_IO_URING_ENTER, (long) ringFd,
                        (long) toSubmit, (long) minComplete, (long) flags, 0L, 0L);
                // read at once, not captured: in the rare case the JVM changed it on the way back, a failure is
                // classed by the wrong errno (a retry, a submit left to the next poll, or an exception)
                int errno = r < 0 ? Libc.errnoNow() : 0;
                sqHead = (int) INT.getAcquire(sqRing, sqHeadOff);
                int taken = sqHead - before;
                inFlight += taken;
                if (r >= 0) {
                    return taken;
                }
                if (errno == Libc.EINTR) {
                    if (taken > 0) {
                        return taken;
                    }
                    continue;
                }
                if (errno == Libc.EAGAIN || errno == Libc.EBUSY) {
                    return taken;
                }
                throw new IoUringException("io_uring_enter(to_submit=" + toSubmit + ", min_complete=" + minComplete
                        + ")", errno);
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- reap

    /**
     * Passes up to {@code max} ready completions to {@code handler}, oldest first, reading the completion ring
     * without a system call. The handler may prepare and submit more I/O. If it throws, the completions already
     * handed over stay consumed and the exception propagates.
     *
     * @return how many completions were delivered
     */
    public int reap(CompletionHandler handler, int max) {
        checkOpen();
        MemorySegment cq = cqRing;
        int n = 0;
        try {
            int tail = (int) INT.getAcquire(cq, cqTailOff);
            while (n < max && !closed) {
                int head = cqHead;
                if (head == tail) {
                    tail = (int) INT.getAcquire(cq, cqTailOff);
                    if (head == tail) {
                        break;
                    }
                }
                long o = cqesOff + (head & cqMask) * CQE_SIZE;
                long userData = cq.get(JAVA_LONG, o + CQE_USER_DATA);
                int res = cq.get(JAVA_INT, o + CQE_RES);
                cqHead = head + 1;
                inFlight--;
                n++;
                handler.complete(userData, res);
            }
        } finally {
            if (n > 0 && !closed) {
                INT.setRelease(cq, cqHeadOff, cqHead);
            }
        }
        return n;
    }

    /** Completions ready to reap now (a read of the shared ring, no system call). */
    public int ready() {
        checkOpen();
        return (int) INT.getAcquire(cqRing, cqTailOff) - cqHead;
    }

    // ---------------------------------------------------------------- state

    /** I/Os submitted to the kernel whose completions have not been reaped yet. */
    public int inFlight() {
        return inFlight;
    }

    /** Entries prepared but not yet taken by the kernel. */
    public int queued() {
        return sqTail - sqHead;
    }

    /** Submission ring size (entries that can wait prepared). */
    public int sqEntries() {
        return sqEntries;
    }

    /** Completion ring size: the bound on outstanding I/Os. */
    public int cqEntries() {
        return cqEntries;
    }

    /** The kernel's IORING_FEAT_* bits for this ring. */
    public int features() {
        return features;
    }

    /** The IORING_SETUP_* flags the ring was created with. */
    public int setupFlags() {
        return setupFlags;
    }

    /** The ring's file descriptor. */
    public int fd() {
        return ringFd;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Makes the kernel signal {@code eventFd} whenever it posts a completion, so an interrupt-mode reactor can
     * sleep on that fd and reap when it becomes readable.
     */
    public void registerEventFd(int eventFd) throws ErrnoException {
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fdSeg = a.allocate(JAVA_INT);
            fdSeg.set(JAVA_INT, 0, eventFd);
            register(REGISTER_EVENTFD, fdSeg, 1, "IORING_REGISTER_EVENTFD");
        }
    }

    /** Undoes {@link #registerEventFd}. */
    public void unregisterEventFd() throws ErrnoException {
        checkOpen();
        register(UNREGISTER_EVENTFD, MemorySegment.NULL, 0, "IORING_UNREGISTER_EVENTFD");
    }

    private void register(int opcode, MemorySegment arg, int nrArgs, String what) throws ErrnoException {
        if (Libc.SYSCALL_L_L_P_L == null) {
            throw new ErrnoException(what, Libc.ENOSYS);
        }
        long r;
        try {
            r = (long) Libc.SYSCALL_L_L_P_L.invokeExact(callState, Sys.NR_IO_URING_REGISTER, (long) ringFd,
                    (long) opcode, arg, (long) nrArgs);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (r < 0) {
            throw new ErrnoException(what, Libc.errno(callState));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("io_uring closed");
        }
    }

    /**
     * Unmaps the rings and closes the ring fd; idempotent. Drain first ({@link #inFlight()} == 0): the kernel
     * cancels or finishes what is still outstanding, and those completions are never delivered.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        Libc.closeQuietly(ringFd);
    }

    @Override
    public String toString() {
        return "IoUring[fd=" + ringFd + ", sq=" + sqEntries + ", cq=" + cqEntries + ", queued=" + queued()
                + ", inFlight=" + inFlight + (closed ? ", closed" : "") + "]";
    }
}
