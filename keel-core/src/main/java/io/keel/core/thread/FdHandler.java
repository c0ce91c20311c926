package io.keel.core.thread;

/**
 * Called on the owning lightweight thread when a watched channel or raw fd is ready, with the ready bits (SelectionKey
 * OP_* for a channel, epoll's for a raw fd). Returns work done (0 = idle).
 */
@FunctionalInterface
public interface FdHandler {
    int onReady(int readyOps);
}
