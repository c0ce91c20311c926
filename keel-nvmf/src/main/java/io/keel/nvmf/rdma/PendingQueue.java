package io.keel.nvmf.rdma;

import java.util.ArrayDeque;
import java.util.function.Predicate;

/**
 * Requests waiting for a bounded resource, first come first served (rule R6, scenario S3): the owner re-drives the
 * queue whenever a resource is freed and on every idle poll, so no request waits for an event that may not come.
 * The deque grows to the most that ever waited and then allocates nothing. One owner thread.
 *
 * @param <T> what waits
 */
final class PendingQueue<T> {
    private final ArrayDeque<T> waiting = new ArrayDeque<>();
    private final Predicate<T> tryStart;
    private boolean redriving;
    private long queued;

    /** {@code tryStart} takes the resource for a request and starts it (true), or finds none free (false). */
    PendingQueue(Predicate<T> tryStart) {
        this.tryStart = tryStart;
    }

    /** Starts {@code r} at once if nothing waits before it and the resource is there; else queues it. */
    void submit(T r) {
        if (waiting.isEmpty() && !redriving && tryStart.test(r)) {
            return;
        }
        waiting.addLast(r);
        queued++;
    }

    /** Starts waiting requests in order until one finds no resource; how many started. */
    int redrive() {
        if (redriving) {
            return 0; // a resource freed while starting one: the loop in progress goes on
        }
        redriving = true;
        int started = 0;
        try {
            T r;
            while ((r = waiting.peekFirst()) != null && tryStart.test(r)) {
                waiting.pollFirst();
                started++;
            }
        } finally {
            redriving = false;
        }
        return started;
    }

    /** Takes out every waiting request that {@code gone} matches (their qpair closed); how many. */
    int removeIf(Predicate<T> gone) {
        int before = waiting.size();
        waiting.removeIf(gone);
        return before - waiting.size();
    }

    int size() {
        return waiting.size();
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** Requests that had to wait, since the start (SPDK's {@code pending_data_buffer}). */
    long queued() {
        return queued;
    }
}
