package io.keel.core.thread;

/** A poller's body. Returns a positive number when it did work (busy), 0 when it found nothing (idle). */
@FunctionalInterface
public interface PollerFn {
    int BUSY = 1;
    int IDLE = 0;

    int poll();
}
