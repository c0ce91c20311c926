package io.keel.bdev;

/**
 * The writes a channel has handed to its module and not yet completed (SPDK's {@code io_submitted}, writes only),
 * so that an LBA range lock arriving on the channel knows which of them it must wait for. An intrusive list through
 * the io's own links: adding and removing allocate nothing and cost a few field writes. Owner thread only.
 */
final class WritesInFlight {
    private BdevIo head;

    void add(BdevIo io) {
        io.writeInFlight = true;
        io.writePrev = null;
        io.writeNext = head;
        if (head != null) {
            head.writePrev = io;
        }
        head = io;
    }

    /** Removes {@code io}; false if it was not in flight (a held-back write that never started). */
    boolean remove(BdevIo io) {
        if (!io.writeInFlight) {
            return false;
        }
        io.writeInFlight = false;
        if (io.writePrev == null) {
            head = io.writeNext;
        } else {
            io.writePrev.writeNext = io.writeNext;
        }
        if (io.writeNext != null) {
            io.writeNext.writePrev = io.writePrev;
        }
        io.writePrev = null;
        io.writeNext = null;
        return true;
    }

    /** How many of the writes in flight overlap {@code lock}'s range. */
    int overlapping(RangeLock lock) {
        int n = 0;
        for (BdevIo io = head; io != null; io = io.writeNext) {
            if (lock.overlaps(io.offsetBlocks(), io.numBlocks())) {
                n++;
            }
        }
        return n;
    }
}
