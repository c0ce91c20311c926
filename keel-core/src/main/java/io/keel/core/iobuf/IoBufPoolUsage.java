package io.keel.core.iobuf;

/**
 * Where one pool's buffers are now ({@code keel_iobuf_get_pools}; rule R6: every pool and queue depth is
 * visible). {@code count - free - cached} buffers are held by clients.
 *
 * @param count   buffers in the pool
 * @param bufsize bytes per buffer
 * @param free    in the global pool (a snapshot)
 * @param cached  in channel caches, summed over threads
 * @param waiting waiters queued for this pool, summed over threads
 */
public record IoBufPoolUsage(long count, long bufsize, long free, long cached, long waiting) {
}
