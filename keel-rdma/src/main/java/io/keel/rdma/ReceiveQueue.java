package io.keel.rdma;

/**
 * Where receive work requests are posted: a queue pair's own receive queue ({@link QueuePair}) or a shared receive
 * queue that several queue pairs take their receives from ({@link SharedReceiveQueue}).
 */
public interface ReceiveQueue {
    /**
     * Posts the chain of receive work requests that starts at slot {@code first} with one call: 0, or {@code -errno}
     * with {@link WorkRequests#failedSlot} naming the first request not posted (those before it were).
     */
    int postReceive(RecvWorkRequests requests, int first);
}
