package io.keel.bdev.uring;

/**
 * An allocation-free completion handler for the uring probes: counts completions, and as failed every one that did
 * not transfer the expected number of bytes (keeping the last such result).
 */
final class FullReadCounter implements CompletionHandler {
    private final int expected;
    long done;
    long failed;
    int lastError;

    FullReadCounter(int expectedBytes) {
        this.expected = expectedBytes;
    }

    @Override
    public void complete(long userData, int res) {
        done++;
        if (res != expected) {
            failed++;
            lastError = res;
        }
    }
}
