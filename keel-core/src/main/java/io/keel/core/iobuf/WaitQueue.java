package io.keel.core.iobuf;

/**
 * One thread's FIFO of waiters for one pool (SPDK keeps one per thread and pool, shared by every module's
 * channel on that thread). Intrusive and doubly linked: queueing and aborting are O(1) and allocate nothing.
 * Owner thread only, except {@link BufferPool#starvingThreads}, which it keeps up to date.
 */
final class WaitQueue {
    final BufferPool pool;
    private IoBufWaiter head;
    private IoBufWaiter tail;
    private int size;

    WaitQueue(BufferPool pool) {
        this.pool = pool;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void add(IoBufWaiter w) {
        w.queue = this;
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        if (size++ == 0) {
            pool.starvingThreads.incrementAndGet();
        }
    }

    /** Removes and returns the oldest waiter; the queue must not be empty. */
    IoBufWaiter removeFirst() {
        IoBufWaiter w = head;
        remove(w);
        return w;
    }

    void remove(IoBufWaiter w) {
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.queue = null;
        if (--size == 0) {
            pool.starvingThreads.decrementAndGet();
        }
    }
}
