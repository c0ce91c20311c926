package io.keel.bdev.raid;

/**
 * The token bucket that holds a background process to {@code process_max_bandwidth_mb_sec}
 * ({@code raid_bdev_process_consume_token}): filled at that rate, holding at most 1 ms of it; a window may start while
 * the bucket is positive and takes its bytes, which may leave it negative. Times come from the caller (the
 * framework's clock). One thread's.
 */
final class ProcessBandwidth {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long bytesPerSecond;
    private final long maxTokens;
    private long tokens;
    private long lastNanos;

    /** A bucket for {@code mbPerSecond} MiB/s (more than 0), full at {@code nowNanos}. */
    ProcessBandwidth(int mbPerSecond, long nowNanos) {
        this.bytesPerSecond = mbPerSecond * 1024L * 1024L;
        this.maxTokens = Math.max(1, bytesPerSecond / 1000);
        this.tokens = maxTokens;
        this.lastNanos = nowNanos;
    }

    /** Takes {@code bytes} if the bucket, refilled up to {@code nowNanos}, is positive; false if it must wait. */
    boolean take(long bytes, long nowNanos) {
        long elapsed = Math.min(nowNanos - lastNanos, NANOS_PER_SECOND); // capped: no overflow, the bucket is full
        lastNanos = nowNanos;
        tokens = Math.min(maxTokens, tokens + elapsed * bytesPerSecond / NANOS_PER_SECOND);
        if (tokens <= 0) {
            return false;
        }
        tokens -= bytes;
        return true;
    }
}
