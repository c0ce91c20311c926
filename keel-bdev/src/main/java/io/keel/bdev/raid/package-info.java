/**
 * The foundations of SPDK's raid module ({@code module/bdev/raid}) for Keel: raid levels, the address mapping of
 * raid0, concat and raid1, the on-disk superblock (byte-compatible with SPDK's), and the RPC parameters and JSON
 * shapes of the {@code bdev_raid_*} methods. Everything here is pure (no threads, no I/O); the raid bdev itself
 * builds on it as docs/raid-design.md describes.
 */
package io.keel.bdev.raid;
