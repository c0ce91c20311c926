package io.keel.bdev;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;

/**
 * A module's per-thread queue of finished I/O, completed in a batch (SPDK's malloc and null completion pollers): a
 * module finishes the work in submit, queues the io here, and the caller hears of it later in the same turn of the
 * thread. The first io queued sends the thread a message to itself, which completes the whole batch; a thread's own
 * messages run after the turn's pollers (and never take a slot of the ring other threads send through), so the
 * batch completes in the turn that submitted it. A message per batch rather than a poller paused and resumed per
 * batch: at queue depth one that was a pause, a resume and two poller-list updates per I/O.
 */
public final class DeferredCompletions {
    /** {@code values()} copies the array on every call: once per I/O would be an allocation per I/O. */
    private static final BdevIoStatus[] STATUSES = BdevIoStatus.values();
    private static final MessageFn<DeferredCompletions> COMPLETE_ALL = DeferredCompletions::completeAll;

    private final KeelThread thread;
    private BdevIo head;
    private BdevIo tail;

    public DeferredCompletions(KeelThread thread) {
        this.thread = thread;
    }

    /** Queues {@code io} to be completed with {@code status} later in this turn of the thread. */
    public void add(BdevIo io, BdevIoStatus status) {
        io.moduleValue = status.ordinal();
        io.moduleNext = null;
        if (tail == null) {
            head = io;
            thread.send(COMPLETE_ALL, this);
        } else {
            tail.moduleNext = io;
        }
        tail = io;
    }

    private void completeAll() {
        BdevIo io = head;
        head = null;
        tail = null;
        while (io != null) {
            BdevIo next = io.moduleNext;
            io.moduleNext = null;
            io.complete(STATUSES[(int) io.moduleValue]);
            io = next;
        }
    }

    /**
     * The channel is destroyed: nothing to give back. The bdev layer releases a channel only once its I/O came back,
     * so no batch is queued; one that were would still complete by its message.
     */
    public void close() {
        assert head == null : "a module channel destroyed with completions queued";
    }
}
