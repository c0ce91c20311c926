package io.keel.core.iobuf;

/**
 * One module's use of one pool, as SPDK's {@code iobuf_get_stats} reports it ({@code small_pool} and
 * {@code large_pool} objects).
 *
 * @param cache     gets served from a channel's cache
 * @param main      gets served from the global pool
 * @param retry     gets that found both empty and queued their waiter
 * @param cacheSize the channels' configured cache sizes, summed
 */
public record IoBufPoolStats(long cache, long main, long retry, long cacheSize) {
}
