package io.keel.nvme.host.bdev;

import io.keel.core.rpc.RpcException;
import java.util.List;

/** {@code bdev_nvme_set_options}: every parameter optional; those given replace the current values. */
record SetOptionsParams(String actionOnTimeout, Long timeoutUs, Long timeoutAdminUs, Integer keepAliveTimeoutMs,
        Integer arbitrationBurst, Integer lowPriorityWeight, Integer mediumPriorityWeight,
        Integer highPriorityWeight, Long nvmeAdminqPollPeriodUs, Long nvmeIoqPollPeriodUs, Integer ioQueueRequests,
        Boolean delayCmdSubmit, Integer transportRetryCount, Integer bdevRetryCount, Integer transportAckTimeout,
        Integer ctrlrLossTimeoutSec, Integer reconnectDelaySec, Integer fastIoFailTimeoutSec,
        Boolean disableAutoFailback, Boolean generateUuids, Integer transportTos, Boolean nvmeErrorStat,
        Integer rdmaSrqSize, Boolean ioPathStat, Boolean allowAccelSequence, Integer rdmaMaxCqSize,
        Integer rdmaCmEventTimeoutMs, List<String> dhchapDigests, List<String> dhchapDhgroups, Boolean rdmaUmrPerIo,
        Integer tcpConnectTimeoutMs, Boolean enableFlush, NvmeOptions.MultipathOpts multipathOpts) {

    NvmeOptions apply(NvmeOptions o) {
        String action = or(actionOnTimeout, o.actionOnTimeout());
        if (!List.of("none", "reset", "abort").contains(action)) {
            throw RpcException.invalidParams("action_on_timeout must be none, reset or abort, not " + action);
        }
        NvmeOptions n = new NvmeOptions(action, or(timeoutUs, o.timeoutUs()), or(timeoutAdminUs, o.timeoutAdminUs()),
                or(keepAliveTimeoutMs, o.keepAliveTimeoutMs()), or(arbitrationBurst, o.arbitrationBurst()),
                or(lowPriorityWeight, o.lowPriorityWeight()), or(mediumPriorityWeight, o.mediumPriorityWeight()),
                or(highPriorityWeight, o.highPriorityWeight()), or(nvmeAdminqPollPeriodUs, o.nvmeAdminqPollPeriodUs()),
                or(nvmeIoqPollPeriodUs, o.nvmeIoqPollPeriodUs()), or(ioQueueRequests, o.ioQueueRequests()),
                or(delayCmdSubmit, o.delayCmdSubmit()), or(transportRetryCount, o.transportRetryCount()),
                or(bdevRetryCount, o.bdevRetryCount()), or(transportAckTimeout, o.transportAckTimeout()),
                or(ctrlrLossTimeoutSec, o.ctrlrLossTimeoutSec()), or(reconnectDelaySec, o.reconnectDelaySec()),
                or(fastIoFailTimeoutSec, o.fastIoFailTimeoutSec()), or(disableAutoFailback, o.disableAutoFailback()),
                or(generateUuids, o.generateUuids()), or(transportTos, o.transportTos()),
                or(nvmeErrorStat, o.nvmeErrorStat()), or(rdmaSrqSize, o.rdmaSrqSize()), or(ioPathStat, o.ioPathStat()),
                or(allowAccelSequence, o.allowAccelSequence()), or(rdmaMaxCqSize, o.rdmaMaxCqSize()),
                or(rdmaCmEventTimeoutMs, o.rdmaCmEventTimeoutMs()), or(dhchapDigests, o.dhchapDigests()),
                or(dhchapDhgroups, o.dhchapDhgroups()), or(rdmaUmrPerIo, o.rdmaUmrPerIo()),
                or(tcpConnectTimeoutMs, o.tcpConnectTimeoutMs()), or(enableFlush, o.enableFlush()),
                or(multipathOpts, o.multipathOpts()));
        if (n.ioQueueRequests() < 1 || n.ioQueueRequests() > 65535) {
            throw RpcException.invalidParams("io_queue_requests must be 1..65535");
        }
        if (n.bdevRetryCount() < -1) {
            throw RpcException.invalidParams("bdev_retry_count must be -1 (infinite) or more");
        }
        if (n.keepAliveTimeoutMs() < 0) {
            throw RpcException.invalidParams("keep_alive_timeout_ms must not be negative");
        }
        ReconnectPolicy.validate(n.ctrlrLossTimeoutSec(), n.reconnectDelaySec(), n.fastIoFailTimeoutSec());
        if (!List.of("active_passive", "active_active").contains(n.multipathOpts().policy())) {
            throw RpcException.invalidParams("multipath_opts.policy must be active_passive or active_active");
        }
        return n;
    }

    private static <T> T or(T given, T current) {
        return given != null ? given : current;
    }
}
