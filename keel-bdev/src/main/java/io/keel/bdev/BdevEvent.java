package io.keel.bdev;

/** What a descriptor is told about its bdev (SPDK's {@code spdk_bdev_event_type}). */
public enum BdevEvent {
    /** The bdev is being removed: close the descriptor (and release channels) soon. */
    REMOVE,
    /** The bdev's size changed. */
    RESIZE
}
