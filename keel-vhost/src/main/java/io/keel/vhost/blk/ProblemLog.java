package io.keel.vhost.blk;

import org.slf4j.Logger;

/**
 * Logs a guest's bad requests at most once a second per device, with how many were left out meanwhile, so a
 * misbehaving guest cannot flood the log. Owner thread only.
 */
final class ProblemLog {
    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final Logger log;
    private final String name;
    private long nextNanos = Long.MIN_VALUE;
    private long suppressed;
    private long total;

    ProblemLog(Logger log, String name) {
        this.log = log;
        this.name = name;
    }

    void report(long nowNanos, String what, long sector, long bytes) {
        total++;
        if (nextNanos != Long.MIN_VALUE && nowNanos - nextNanos < 0) {
            suppressed++;
            return;
        }
        nextNanos = nowNanos + INTERVAL_NANOS;
        log.warn("{}: request failed: {} (sector {}, {} bytes); {} more since the last report, {} in all", name, what,
                sector, bytes, suppressed, total);
        suppressed = 0;
    }

    long total() {
        return total;
    }
}
