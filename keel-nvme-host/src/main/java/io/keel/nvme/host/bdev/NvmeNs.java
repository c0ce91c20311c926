package io.keel.nvme.host.bdev;

import io.keel.nvme.host.NamespaceData;

/** A namespace as one path sees it (SPDK's {@code nvme_ns}): the path's controller, the NSID and its data. */
record NvmeNs(NvmeCtrlr ctrlr, int nsid, NamespaceData data) {
}
