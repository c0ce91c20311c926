package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code bdev_nvme_attach_controller}, with SPDK's parameter names. */
record AttachParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String trtype,
        @JsonProperty(required = true) String traddr, String adrfam, String trsvcid, String priority, String subnqn,
        String hostnqn, String hostaddr, String hostsvcid, Boolean prchkReftag, Boolean prchkGuard, Boolean hdgst,
        Boolean ddgst, Long fabricsConnectTimeoutUs, String multipath, Long numIoQueues, Integer ctrlrLossTimeoutSec,
        Integer reconnectDelaySec, Integer fastIoFailTimeoutSec, String psk, Long maxBdevs, String dhchapKey,
        String dhchapCtrlrKey, Boolean allowUnrecognizedCsi, NvmeOptions.MultipathOpts multipathOpts) {
}
