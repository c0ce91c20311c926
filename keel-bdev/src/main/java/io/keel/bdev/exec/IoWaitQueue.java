package io.keel.bdev.exec;

import io.keel.bdev.BdevIoWaiter;

/**
 * The requests of one executor waiting for a bdev_io, in the order they began to wait (rule R6). The executor has
 * one place in its thread's io-wait queue, not one per request: when called it re-drives its requests in order until
 * one finds the pool dry again, which goes back to the front and queues the executor again, behind the thread's
 * other waiters. While any wait, a new request queues behind them rather than overtake them.
 */
final class IoWaitQueue extends BdevIoWaiter {
    private RequestSlot head;
    private RequestSlot tail;
    private int size;
    private long waits;
    /** Whether this waiter is in the thread's io-wait queue (it may be queued only once). */
    private boolean queued;

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }

    long waits() {
        return waits;
    }

    /** {@code s} waits for a bdev_io behind the requests waiting already. */
    void add(RequestSlot s) {
        s.nextWaiting = null;
        if (tail == null) {
            head = s;
        } else {
            tail.nextWaiting = s;
        }
        tail = s;
        size++;
        waits++;
        queueOn(s);
    }

    @Override
    public void ioAvailable() {
        queued = false;
        RequestSlot s;
        while ((s = poll()) != null) {
            if (!s.submit()) { // dry again: back to the front, and wait for the next one
                s.nextWaiting = head;
                head = s;
                if (tail == null) {
                    tail = s;
                }
                size++;
                queueOn(s);
                return;
            }
        }
    }

    /** Takes every waiting request off the queue, in order, linked through {@link RequestSlot#nextWaiting}. */
    RequestSlot takeAll() {
        RequestSlot all = head;
        head = null;
        tail = null;
        size = 0;
        return all; // this waiter may stay in the thread's queue: called with nothing to do, it does nothing
    }

    private RequestSlot poll() {
        RequestSlot s = head;
        if (s != null) {
            head = s.nextWaiting;
            if (head == null) {
                tail = null;
            }
            s.nextWaiting = null;
            size--;
        }
        return s;
    }

    private void queueOn(RequestSlot s) {
        if (!queued) {
            queued = true;
            s.channel().queueIoWait(this); // a thread's channels share one io-wait queue: any of them will do
        }
    }
}
