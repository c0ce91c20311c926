package io.keel.bdev.raid;

/**
 * The raid module's options ({@code struct spdk_raid_bdev_opts}), set by {@code bdev_raid_set_options} and saved
 * with the configuration in this order.
 *
 * @param processWindowSizeKb how much a background process (rebuild) copies at a time, in KiB; never 0
 * @param processMaxBandwidthMbSec the most a background process copies per second, in MiB; 0 for no limit
 */
public record RaidOptions(int processWindowSizeKb, int processMaxBandwidthMbSec) {
    /** SPDK's defaults: 1 MiB windows, no bandwidth limit. */
    public static final RaidOptions DEFAULTS = new RaidOptions(1024, 0);
}
