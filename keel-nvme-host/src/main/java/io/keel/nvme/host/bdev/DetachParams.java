package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code bdev_nvme_detach_controller}: the name, and filters choosing which of its paths go (all by default). */
record DetachParams(@JsonProperty(required = true) String name, String trtype, String traddr, String adrfam,
        String trsvcid, String subnqn, String hostaddr, String hostsvcid) {
}
