package io.keel.app.bdevperf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the jobs of one run report besides numbers: failures. Jobs record them on their own threads (never
 * printing there: a reactor does not block on a terminal); the launching thread prints them as they come.
 * The first {@link #KEPT} are kept word for word; the rest are only counted.
 */
final class Run {
    static final int KEPT = 100;

    private final ConcurrentLinkedQueue<String> fresh = new ConcurrentLinkedQueue<>();
    private final AtomicLong count = new AtomicLong();
    private final List<String> all = new ArrayList<>();

    /** Records a failure (any thread). */
    void error(String message) {
        if (count.getAndIncrement() < KEPT) {
            fresh.add(message);
        }
    }

    /** Failures recorded since the last call, in order (the launching thread only). */
    List<String> takeNew() {
        List<String> out = new ArrayList<>();
        for (String s; (s = fresh.poll()) != null; ) {
            out.add(s);
            all.add(s);
        }
        return out;
    }

    /** The failures kept so far (the launching thread only). */
    List<String> all() {
        return List.copyOf(all);
    }

    /** How many failures were reported in all, kept or not. */
    long count() {
        return count.get();
    }
}
