package io.keel.bdev;

/** Receives a descriptor's events, on the thread that opened it. */
@FunctionalInterface
public interface BdevEventHandler {
    void onEvent(BdevEvent event, Bdev bdev);
}
