package io.keel.bdev;

/** How a bdev_io ended (SPDK's {@code SPDK_BDEV_IO_STATUS_*}). */
public enum BdevIoStatus {
    PENDING,
    SUCCESS,
    FAILED,
    /** The module ran out of a resource: the layer queues the I/O and resubmits it later (rule R6). */
    NOMEM,
    ABORTED,
    MISCOMPARE,
    /** Failed with the NVMe status code type and code in {@link BdevIo#nvmeSct()} / {@link BdevIo#nvmeSc()}. */
    NVME_ERROR
}
