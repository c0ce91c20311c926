package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code bdev_nvme_start_discovery}, with SPDK's parameter names (its schema has no TLS or DH-HMAC-CHAP parameter
 * for discovery, so a {@code psk} or {@code dhchap_key} is refused as an unknown parameter, -32602).
 * {@code attach_timeout_ms} other than 0 implies {@code wait_for_attach}; the reconnect settings apply to the
 * controllers the service attaches and default to 0, as SPDK's.
 */
record DiscoveryParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String trtype,
        @JsonProperty(required = true) String traddr, String adrfam, String trsvcid, String hostnqn,
        Boolean waitForAttach, Long attachTimeoutMs, Integer ctrlrLossTimeoutSec, Integer reconnectDelaySec,
        Integer fastIoFailTimeoutSec) {
}
