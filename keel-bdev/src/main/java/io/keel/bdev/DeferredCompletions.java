package io.keel.bdev;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;

/**
 * A module's per-thread queue of finished I/O, completed in a batch by a poller (SPDK's malloc and null
 * completion pollers): a module finishes the work in submit, queues the io here, and the caller hears of it
 * on a later poll. The poller runs only while something is queued, so an idle thread stays idle.
 */
public final class DeferredCompletions {
    /** {@code values()} copies the array on every call: once per I/O would be an allocation per I/O. */
    private static final BdevIoStatus[] STATUSES = BdevIoStatus.values();

    private final Poller poller;
    private BdevIo head;
    private BdevIo tail;

    public DeferredCompletions(KeelThread thread, String pollerName) {
        poller = thread.registerPoller(pollerName, this::completeAll);
        poller.pause();
    }

    /** Queues {@code io} to be completed with {@code status} on the next poll. */
    public void add(BdevIo io, BdevIoStatus status) {
        io.moduleValue = status.ordinal();
        io.moduleNext = null;
        if (tail == null) {
            head = io;
            poller.resume();
        } else {
            tail.moduleNext = io;
        }
        tail = io;
    }

    private int completeAll() {
        BdevIo io = head;
        head = null;
        tail = null;
        poller.pause();
        int n = 0;
        while (io != null) {
            BdevIo next = io.moduleNext;
            io.moduleNext = null;
            io.complete(STATUSES[(int) io.moduleValue]);
            io = next;
            n++;
        }
        return n > 0 ? PollerFn.BUSY : PollerFn.IDLE;
    }

    /** Stops the poller (channel destruction). */
    public void close() {
        poller.unregister();
    }
}
