/**
 * A low-level io_uring driver over FFM, for the uring bdev module: {@link io.keel.bdev.uring.IoUring} (one ring,
 * one owner thread, batched submission, syscall-free reaping, no allocation per I/O),
 * {@link io.keel.bdev.uring.NativeFile} (files and block devices with O_DIRECT, size and alignment) and
 * {@link io.keel.bdev.uring.IoBuffers} (aligned off-heap buffers). Raw {@code io_uring_setup}/{@code io_uring_enter}
 * system calls and mmap'd rings; no JNI, no liburing.
 */
package io.keel.bdev.uring;
