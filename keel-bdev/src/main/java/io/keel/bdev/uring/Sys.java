package io.keel.bdev.uring;

/**
 * The kernel constants only this package uses: io_uring's syscall numbers, block-device ioctls and statx's layout.
 * The libc bindings themselves, errno values and common flags are keel-core's {@link io.keel.core.sys.Libc}.
 */
final class Sys {
    private Sys() {
    }

    // io_uring syscalls: the same numbers on every architecture (asm-generic table, added in 5.1).
    static final long NR_IO_URING_SETUP = 425;
    static final long NR_IO_URING_ENTER = 426;
    static final long NR_IO_URING_REGISTER = 427;

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
}
