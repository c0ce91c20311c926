package io.keel.nvme.host.bdev;

import java.util.List;

/**
 * The module's options, {@code bdev_nvme_set_options} with SPDK's names and defaults. Keel acts on
 * {@code keep_alive_timeout_ms}, {@code io_queue_requests}, {@code bdev_retry_count}, {@code ctrlr_loss_timeout_sec},
 * {@code reconnect_delay_sec}, {@code fast_io_fail_timeout_sec}, {@code enable_flush}, {@code tcp_connect_timeout_ms}
 * and {@code multipath_opts}; the rest (PCIe arbitration, RDMA and authentication settings, polling periods Keel's
 * reactors make moot) are kept and reported so that configs round-trip.
 */
record NvmeOptions(String actionOnTimeout, long timeoutUs, long timeoutAdminUs, int keepAliveTimeoutMs,
        int arbitrationBurst, int lowPriorityWeight, int mediumPriorityWeight, int highPriorityWeight,
        long nvmeAdminqPollPeriodUs, long nvmeIoqPollPeriodUs, int ioQueueRequests, boolean delayCmdSubmit,
        int transportRetryCount, int bdevRetryCount, int transportAckTimeout, int ctrlrLossTimeoutSec,
        int reconnectDelaySec, int fastIoFailTimeoutSec, boolean disableAutoFailback, boolean generateUuids,
        int transportTos, boolean nvmeErrorStat, int rdmaSrqSize, boolean ioPathStat, boolean allowAccelSequence,
        int rdmaMaxCqSize, int rdmaCmEventTimeoutMs, List<String> dhchapDigests, List<String> dhchapDhgroups,
        boolean rdmaUmrPerIo, int tcpConnectTimeoutMs, boolean enableFlush, MultipathOpts multipathOpts) {

    /** Default multipath options: the policy (and its selector) new multipath bdevs start with. */
    record MultipathOpts(String policy) {
    }

    static NvmeOptions defaults() {
        return new NvmeOptions("none", 0, 0, 10_000, 0, 0, 0, 0, 10_000, 0, 512, true, 4, 3, 0, 0, 0, 0, false,
                false, 0, false, 0, false, false, 0, 0, List.of("sha256", "sha384", "sha512"),
                List.of("null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"), false, 0, false,
                new MultipathOpts("active_passive"));
    }
}
