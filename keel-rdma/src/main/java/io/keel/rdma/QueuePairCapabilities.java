package io.keel.rdma;

/**
 * A queue pair's sizes ({@code struct ibv_qp_cap}): asked for at creation, and what the provider granted (at least as
 * much) after it.
 */
public record QueuePairCapabilities(int maxSendWr, int maxRecvWr, int maxSendSge, int maxRecvSge, int maxInlineData) {
}
