package io.keel.core.thread;

/** Called on the owning lightweight thread when a watched channel is ready. Returns work done (0 = idle). */
@FunctionalInterface
public interface FdHandler {
    int onReady(int readyOps);
}
