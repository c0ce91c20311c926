package io.keel.bdev.raid;

/**
 * When a rebuild records its progress in the superblock: once {@link #EVERY_BYTES} more are copied or
 * {@link #EVERY_NANOS} have passed since the last record, whichever comes first. At most one superblock write a
 * second, or per 256 MiB copied, costs nothing next to the copy; a restart loses at most that much progress. Times
 * come from the caller (the framework's clock). App thread.
 */
final class CheckpointSchedule {
    static final long EVERY_BYTES = 256L << 20;
    static final long EVERY_NANOS = 1_000_000_000L;

    private final long everyBlocks;
    private long lastBlocks;
    private long lastNanos;

    /** A schedule for a rebuild of {@code blockSize}-byte blocks starting at {@code fromBlocks} at {@code nowNanos}. */
    CheckpointSchedule(int blockSize, long fromBlocks, long nowNanos) {
        this.everyBlocks = EVERY_BYTES / blockSize;
        this.lastBlocks = fromBlocks;
        this.lastNanos = nowNanos;
    }

    /** Whether to record {@code copiedBlocks} now; true counts as recorded. */
    boolean due(long copiedBlocks, long nowNanos) {
        if (copiedBlocks - lastBlocks < everyBlocks && nowNanos - lastNanos < EVERY_NANOS) {
            return false;
        }
        lastBlocks = copiedBlocks;
        lastNanos = nowNanos;
        return true;
    }
}
