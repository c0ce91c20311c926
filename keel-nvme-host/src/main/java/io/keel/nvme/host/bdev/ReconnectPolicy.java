package io.keel.nvme.host.bdev;

import io.keel.core.rpc.RpcException;

/**
 * When a lost controller is reconnected and when it is given up, as SPDK documents it: reconnect every
 * {@code reconnectDelaySec} (0: no reconnect after a failed reset), delete the controller after
 * {@code ctrlrLossTimeoutSec} without a connection (-1: never; 0: no reconnect), and fail the I/O queued for it
 * after {@code fastIoFailTimeoutSec} (0: keep it queued until the controller comes back or is deleted).
 */
record ReconnectPolicy(int ctrlrLossTimeoutSec, int reconnectDelaySec, int fastIoFailTimeoutSec) {
    ReconnectPolicy {
        validate(ctrlrLossTimeoutSec, reconnectDelaySec, fastIoFailTimeoutSec);
    }

    /** SPDK's rules for the three together. */
    static void validate(int loss, int delay, int fastFail) {
        if (loss < -1) {
            throw RpcException.invalidParams("ctrlr_loss_timeout_sec must be -1 or more");
        }
        if (delay < 0 || fastFail < 0) {
            throw RpcException.invalidParams("reconnect_delay_sec and fast_io_fail_timeout_sec must not be negative");
        }
        if (loss == 0) {
            if (delay != 0 || fastFail != 0) {
                throw RpcException.invalidParams(
                        "reconnect_delay_sec and fast_io_fail_timeout_sec must be 0 when ctrlr_loss_timeout_sec is 0");
            }
            return;
        }
        if (delay == 0) {
            throw RpcException.invalidParams("reconnect_delay_sec must be non-zero when ctrlr_loss_timeout_sec is not 0");
        }
        if (loss > 0 && delay > loss) {
            throw RpcException.invalidParams("reconnect_delay_sec must not exceed ctrlr_loss_timeout_sec");
        }
        if (loss > 0 && fastFail > loss) {
            throw RpcException.invalidParams("fast_io_fail_timeout_sec must not exceed ctrlr_loss_timeout_sec");
        }
        if (fastFail != 0 && fastFail < delay) {
            throw RpcException.invalidParams("fast_io_fail_timeout_sec must not be below reconnect_delay_sec");
        }
    }

    boolean reconnects() {
        return reconnectDelaySec > 0;
    }
}
