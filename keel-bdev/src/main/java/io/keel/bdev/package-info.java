/** The block device layer (SPDK bdev): bdevs, descriptors, channels, bdev_io, and the modules. */
package io.keel.bdev;
