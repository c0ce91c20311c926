package io.keel.core.thread;

/** A channel or raw fd watched by a lightweight thread's reactor (SPDK's fd group entry). Owner thread only. */
public interface FdWatch {
    /**
     * Changes the interest set: {@link java.nio.channels.SelectionKey} OP_* bits for a channel, {@link io.keel.core.sys.Epoll}
     * EPOLL* bits for a raw fd.
     */
    void interest(int ops);

    /** Stops watching; the channel itself stays open. Idempotent. */
    void cancel();
}
