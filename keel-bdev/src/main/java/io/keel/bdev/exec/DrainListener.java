package io.keel.bdev.exec;

/** Told how a {@link RequestExecutor#drain} goes, on the executor's thread. */
@FunctionalInterface
public interface DrainListener {
    /** Nothing is in flight any more and nothing will be taken: the owner may let go of its channels. Once. */
    void drained();

    /**
     * The drain's bound passed with {@code atBdev} requests still at the bdev layer (which has no way to take one
     * back): the owner may move on (rule R5) and leave the executor to finish them; {@link #drained()} still follows
     * when they end. At most once; already logged.
     */
    default void drainOverdue(int atBdev) {
    }
}
