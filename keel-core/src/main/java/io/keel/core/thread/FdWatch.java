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

    /**
     * Marks the fd as control traffic that tolerates a millisecond's wait (a vhost-user socket, an RPC connection,
     * the kick fd of a queue that is polled anyway): while only such fds are watched, a poll-mode reactor looks at
     * them about once a millisecond instead of every 20 µs — each look is a system call (47 K a second on a vhost
     * target's core at queue depth one), and a request arriving meanwhile waits for it. Once one of them is ready
     * the reactor looks on every iteration again for a while, so a burst of messages is not slowed. Returns this
     * watch.
     */
    default FdWatch relaxed() {
        return this;
    }
}
