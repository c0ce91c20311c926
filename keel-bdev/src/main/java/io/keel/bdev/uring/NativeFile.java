package io.keel.bdev.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.keel.core.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A regular file or block device opened with {@code open(2)} for {@link IoUring} I/O, with O_DIRECT when the
 * file system allows it. Knows its size and the alignment O_DIRECT requires. Opening, sizing and closing are
 * control-path operations (they allocate and may block); the fd is what the data path uses.
 *
 * <p>Alignment: for a block device the logical block size comes from {@code BLKSSZGET}; for a regular file from
 * {@code statx(STATX_DIOALIGN)} (Linux 6.1+), else from probing reads at 512 and then 4096 bytes, else 4096 is
 * assumed. In buffered mode any offset, length and address work and the alignments are 1.
 */
public final class NativeFile implements AutoCloseable {
    /** What the path names. */
    public enum Kind {
        REGULAR_FILE, BLOCK_DEVICE
    }

    /** Where {@link #ioAlignment()} came from, for logs and reports. */
    public enum AlignmentSource {
        /** Buffered I/O: no alignment needed. */
        NONE,
        /** The block device's logical block size (BLKSSZGET). */
        BLKSSZGET,
        /** The file system's answer to statx(STATX_DIOALIGN). */
        STATX,
        /** Probing O_DIRECT reads at 512 and 4096 bytes. */
        PROBE,
        /** The file was too small to probe and the kernel did not say: 4096 assumed. */
        ASSUMED
    }

    private static final int DEFAULT_MODE = 0644;
    private static final int ASSUMED_ALIGNMENT = 4096;

    private final Path path;
    private final int fd;
    private final Kind kind;
    private final boolean writable;
    private final boolean direct;
    private final int ioAlignment;
    private final int bufferAlignment;
    private final int logicalBlockSize;
    private final AlignmentSource alignmentSource;
    private boolean closed;

    private NativeFile(Path path, int fd, Kind kind, boolean writable, boolean direct, int ioAlignment,
                       int bufferAlignment, int logicalBlockSize, AlignmentSource alignmentSource) {
        this.path = path;
        this.fd = fd;
        this.kind = kind;
        this.writable = writable;
        this.direct = direct;
        this.ioAlignment = ioAlignment;
        this.bufferAlignment = bufferAlignment;
        this.logicalBlockSize = logicalBlockSize;
        this.alignmentSource = alignmentSource;
    }

    /**
     * Opens an existing regular file or block device.
     *
     * @param direct try O_DIRECT first; if the file system rejects it (EINVAL, e.g. some tmpfs) the file is opened
     *               buffered instead: check {@link #isDirect()}
     */
    public static NativeFile open(Path path, boolean writable, boolean direct) throws IOException {
        return open(path, writable, direct, false);
    }

    /**
     * Opens a regular file read-write, creating it (mode 0644) if missing, and extends it to {@code size} bytes
     * with {@code ftruncate} if it is smaller (never shrinks it). For tests and file-backed bdevs.
     */
    public static NativeFile create(Path path, long size, boolean direct) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        NativeFile f = open(path, true, direct, true);
        try {
            if (f.kind != Kind.REGULAR_FILE) {
                throw new IOException(path + " is not a regular file");
            }
            if (f.size() < size) {
                f.setSize(size);
            }
            return f;
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static NativeFile open(Path path, boolean writable, boolean direct, boolean create) throws IOException {
        if (!Libc.SUPPORTED_PLATFORM || Libc.OPEN == null || Libc.STATX == null) {
            throw new ErrnoException("open(" + path + "): needs Linux on x86_64 or aarch64 with glibc", Libc.ENOSYS);
        }
        int flags = (writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC | (create ? Libc.O_CREAT : 0);
        String name = path.toString();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(a);
            MemorySegment cpath = a.allocateFrom(name);
            boolean isDirect = direct;
            int fd = (int) Libc.OPEN.invokeExact(cs, cpath, flags | (direct ? Libc.O_DIRECT : 0), DEFAULT_MODE);
            if (fd < 0 && direct && Libc.errno(cs) == Libc.EINVAL) {
                isDirect = false; // the file system does not do O_DIRECT
                fd = (int) Libc.OPEN.invokeExact(cs, cpath, flags, DEFAULT_MODE);
            }
            if (fd < 0) {
                throw new ErrnoException("open(" + name + (isDirect ? ", O_DIRECT" : "") + ")", Libc.errno(cs));
            }
            try {
                return describe(path, fd, writable, isDirect, a, cs);
            } catch (Throwable t) {
                Libc.closeQuietly(fd);
                throw t;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private static NativeFile describe(Path path, int fd, boolean writable, boolean direct, Arena a,
                                       MemorySegment cs) throws Throwable {
        MemorySegment stx = statx(fd, a, cs, path);
        int mode = Short.toUnsignedInt(stx.get(JAVA_SHORT, Sys.STX_MODE)) & Sys.S_IFMT;
        int mask = stx.get(JAVA_INT, Sys.STX_MASK);
        if (mode == Sys.S_IFBLK) {
            int lbs = blockSectorSize(fd, a, cs, path);
            int memAlign = (mask & Sys.STATX_DIOALIGN) != 0 && stx.get(JAVA_INT, Sys.STX_DIO_MEM_ALIGN) > 0
                    ? stx.get(JAVA_INT, Sys.STX_DIO_MEM_ALIGN) : lbs;
            return new NativeFile(path, fd, Kind.BLOCK_DEVICE, writable, direct, direct ? lbs : 1,
                    direct ? memAlign : 1, lbs, direct ? AlignmentSource.BLKSSZGET : AlignmentSource.NONE);
        }
        if (mode != Sys.S_IFREG) {
            throw new ErrnoException(path + " is neither a regular file nor a block device",
                    mode == 0040000 ? Libc.EISDIR : Libc.EINVAL);
        }
        int offAlign = 0;
        int memAlign = 0;
        if ((mask & Sys.STATX_DIOALIGN) != 0) {
            offAlign = stx.get(JAVA_INT, Sys.STX_DIO_OFFSET_ALIGN);
            memAlign = stx.get(JAVA_INT, Sys.STX_DIO_MEM_ALIGN);
        }
        if (!direct) {
            int lbs = offAlign > 0 ? offAlign : 512;
            return new NativeFile(path, fd, Kind.REGULAR_FILE, writable, false, 1, 1, lbs, AlignmentSource.NONE);
        }
        AlignmentSource source = AlignmentSource.STATX;
        if (offAlign <= 0) {
            long size = stx.get(JAVA_LONG, Sys.STX_SIZE);
            offAlign = probeAlignment(fd, size, a, cs);
            source = offAlign > 0 ? AlignmentSource.PROBE : AlignmentSource.ASSUMED;
            if (offAlign <= 0) {
                offAlign = ASSUMED_ALIGNMENT;
            }
            memAlign = offAlign;
        }
        if (memAlign <= 0) {
            memAlign = offAlign;
        }
        return new NativeFile(path, fd, Kind.REGULAR_FILE, writable, true, offAlign, memAlign, offAlign, source);
    }

    private static MemorySegment statx(int fd, Arena a, MemorySegment cs, Path path) throws Throwable {
        MemorySegment stx = a.allocate(Sys.STATX_BUF_SIZE, 8);
        int r = (int) Libc.STATX.invokeExact(cs, fd, a.allocateFrom(""), Sys.AT_EMPTY_PATH,
                Sys.STATX_MODE | Sys.STATX_SIZE | Sys.STATX_DIOALIGN, stx);
        if (r < 0) {
            throw new ErrnoException("statx(" + path + ")", Libc.errno(cs));
        }
        return stx;
    }

    private static int blockSectorSize(int fd, Arena a, MemorySegment cs, Path path) throws Throwable {
        MemorySegment out = a.allocate(JAVA_INT);
        int r = (int) Libc.IOCTL_P.invokeExact(cs, fd, Sys.BLKSSZGET, out);
        if (r < 0) {
            throw new ErrnoException("ioctl(" + path + ", BLKSSZGET)", Libc.errno(cs));
        }
        return out.get(JAVA_INT, 0);
    }

    /** 512 or 4096 when an O_DIRECT read at that alignment succeeds; 0 when the file is too small to tell. */
    private static int probeAlignment(int fd, long size, Arena a, MemorySegment cs) throws Throwable {
        // a buffer at 512 past a page boundary: aligned to 512 but not to 4096
        MemorySegment page = a.allocate(3 * 4096L, 4096);
        for (int align : new int[] {512, 4096}) {
            if (size < 2L * align) {
                return 0;
            }
            MemorySegment buf = page.asSlice(align == 512 ? 4096 + 512 : 4096, align);
            long r = (long) Libc.PREAD.invokeExact(cs, fd, buf, (long) align, (long) align);
            if (r >= 0) {
                return align;
            }
            if (Libc.errno(cs) != Libc.EINVAL) {
                return 0;
            }
        }
        return 0;
    }

    /** The current size in bytes (statx for files, BLKGETSIZE64 for block devices). */
    public long size() throws IOException {
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(a);
            if (kind == Kind.BLOCK_DEVICE) {
                MemorySegment out = a.allocate(JAVA_LONG);
                int r = (int) Libc.IOCTL_P.invokeExact(cs, fd, Sys.BLKGETSIZE64, out);
                if (r < 0) {
                    throw new ErrnoException("ioctl(" + path + ", BLKGETSIZE64)", Libc.errno(cs));
                }
                return out.get(JAVA_LONG, 0);
            }
            return statx(fd, a, cs, path).get(JAVA_LONG, Sys.STX_SIZE);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Sets a regular file's size with {@code ftruncate} (extends with a hole, or shrinks). */
    public void setSize(long size) throws IOException {
        checkOpen();
        if (kind != Kind.REGULAR_FILE) {
            throw new IOException("cannot resize " + kind + " " + path);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(a);
            int r = (int) Libc.FTRUNCATE.invokeExact(cs, fd, size);
            if (r < 0) {
                throw new ErrnoException("ftruncate(" + path + ", " + size + ")", Libc.errno(cs));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * The file descriptor to pass to {@link IoUring}'s prepare methods; -1 once closed, so a stale user gets
     * {@code -EBADF} rather than I/O on whatever file reuses the number.
     */
    public int fd() {
        return closed ? -1 : fd;
    }

    public Path path() {
        return path;
    }

    public Kind kind() {
        return kind;
    }

    public boolean isBlockDevice() {
        return kind == Kind.BLOCK_DEVICE;
    }

    public boolean isWritable() {
        return writable;
    }

    /** Whether O_DIRECT is in effect (false when it was not asked for or the file system refused it). */
    public boolean isDirect() {
        return direct;
    }

    /** Offsets and lengths must be multiples of this (1 in buffered mode). */
    public int ioAlignment() {
        return ioAlignment;
    }

    /** Buffer addresses must be multiples of this (1 in buffered mode). */
    public int bufferAlignment() {
        return bufferAlignment;
    }

    /**
     * The block size a bdev on this file should advertise: the device's logical block size, the O_DIRECT
     * alignment, or (buffered, unknown) 512.
     */
    public int logicalBlockSize() {
        return logicalBlockSize;
    }

    public AlignmentSource alignmentSource() {
        return alignmentSource;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed: " + path);
        }
    }

    /** Closes the fd; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return path + " (" + (kind == Kind.BLOCK_DEVICE ? "block device" : "regular file") + ", fd " + fd + ", "
                + (direct ? "O_DIRECT, " + ioAlignment + "-byte alignment from " + alignmentSource : "buffered")
                + (closed ? ", closed" : "") + ")";
    }
}
