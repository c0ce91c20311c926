package io.keel.bdev;

import io.keel.core.concurrent.MpmcRing;

/**
 * The global, bounded pool of bdev_io objects ({@code bdev_io_pool_size}), allocated once; threads keep a cache
 * of their own in front of it ({@link BdevThreadCache}). Lock-free and allocation-free.
 */
final class BdevIoPool {
    private final MpmcRing<BdevIo> free;
    private final int size;

    BdevIoPool(int size) {
        this.size = size;
        this.free = new MpmcRing<>(2 * size); // slack: a ring exactly as large as its items can report full
                                              // while a consumer is still releasing the slot a producer needs
        for (int i = 0; i < size; i++) {
            free.offer(new BdevIo());
        }
    }

    BdevIo take() {
        return free.poll();
    }

    void give(BdevIo io) {
        if (!free.offer(io)) {
            throw new IllegalStateException("bdev_io pool overfilled: an io was freed twice");
        }
    }

    int size() {
        return size;
    }

    int available() {
        return free.size();
    }
}
