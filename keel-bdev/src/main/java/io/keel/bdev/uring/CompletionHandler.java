package io.keel.bdev.uring;

/**
 * Receives completions from {@link IoUring#reap}. Primitive arguments, so delivering a completion allocates
 * nothing.
 */
@FunctionalInterface
public interface CompletionHandler {
    /**
     * One I/O finished.
     *
     * @param userData the value given when the I/O was prepared
     * @param res      bytes transferred (reads and writes; may be short, e.g. 0 at end of file), 0 for fsync and
     *                 nop, or {@code -errno} on failure (see {@link Errno})
     */
    void complete(long userData, int res);
}
