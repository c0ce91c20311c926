package io.keel.bdev;

/**
 * A FIFO of bdev_ios linked through their own {@link BdevIo#next} field, so queueing one allocates nothing: a
 * channel's I/O parked after a NOMEM, and its writes held back by an LBA range lock. An io is in at most one
 * queue. Owner thread only.
 */
final class BdevIoQueue {
    private BdevIo head;
    private BdevIo tail;
    private int size;

    void add(BdevIo io) {
        io.next = null;
        if (tail == null) {
            head = io;
        } else {
            tail.next = io;
        }
        tail = io;
        size++;
    }

    /** The first io, taken out; null if empty. */
    BdevIo poll() {
        BdevIo io = head;
        if (io != null) {
            head = io.next;
            if (head == null) {
                tail = null;
            }
            io.next = null;
            size--;
        }
        return io;
    }

    /**
     * Empties the queue at once and returns what it held, in order, as a chain through {@link BdevIo#next} (null
     * if it was empty): whoever walks the chain may add to this queue meanwhile without seeing those again.
     */
    BdevIo takeAll() {
        BdevIo io = head;
        head = null;
        tail = null;
        size = 0;
        return io;
    }

    /** Unlinks {@code io}, a member of a chain from {@link #takeAll()}, and returns the one after it. */
    static BdevIo unlink(BdevIo io) {
        BdevIo next = io.next;
        io.next = null;
        return next;
    }

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }
}
