package io.keel.bdev;

import java.lang.foreign.MemorySegment;

/**
 * Lends a data buffer to a read submitted without one, and takes it back when the io is freed. Starting the
 * layer connects it to iobuf ({@link IobufLender}); until then none is lent and such reads are refused (-EINVAL).
 */
interface BufferLender {
    BufferLender NONE = new BufferLender() {
        @Override
        public boolean canLend(long bytes) {
            return false;
        }

        @Override
        public void lend(BdevChannel ch, BdevIo io) {
            throw new IllegalStateException("no data buffers to lend");
        }

        @Override
        public void giveBack(BdevChannel ch, MemorySegment buf) {
            throw new IllegalStateException("no data buffers were lent");
        }
    };

    boolean canLend(long bytes);

    /** Gets a buffer for {@code io} (maybe after a wait), adds it as the io's buffer and starts the io. */
    void lend(BdevChannel ch, BdevIo io);

    void giveBack(BdevChannel ch, MemorySegment buf);
}
