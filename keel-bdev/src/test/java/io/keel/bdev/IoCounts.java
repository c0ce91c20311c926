package io.keel.bdev;

/** What tests elsewhere read of a channel's statistics (the counts SPDK's bdev_get_iostat has no field for). */
public final class IoCounts {
    private IoCounts() {
    }

    /** The I/Os of {@code type} completed on {@code channel}; on the channel's thread. */
    public static long ops(BdevChannel channel, IoType type) {
        return channel.stats().ops(type);
    }
}
