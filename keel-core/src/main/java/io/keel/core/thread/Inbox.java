package io.keel.core.thread;

/**
 * The queue of messages waiting for one lightweight thread. Many producers, one consumer (the owner).
 * Messages from one sender are delivered in the order they were sent.
 */
public interface Inbox {
    /**
     * Queues a message; safe from any OS thread. Returns false, queuing nothing, once the inbox is closed.
     *
     * @param sender the sending lightweight thread, or null when sent from outside the framework
     */
    boolean offer(KeelThread sender, MessageFn<?> fn, Object arg);

    /** Tells the inbox whose it is (before any message), so that it may treat the owner's messages to itself apart. */
    default void bind(KeelThread owner) {
    }

    /**
     * Closes the inbox if it is empty, atomically with respect to {@link #offer}: afterwards every offer is
     * refused, so no message can be accepted and then never run. Returns false, leaving the inbox open, when
     * a message is waiting or being offered. Owner thread only; used as an exiting thread's last step.
     */
    boolean close();

    /**
     * Closes whatever is queued: later offers are refused; returns how many accepted messages will never run.
     * For an exit forced past its bound, so that senders are told (send returns false) rather than dropped silently.
     */
    int forceClose();

    /** Runs up to {@code max} queued messages on {@code owner}; returns how many ran. Owner thread only. */
    int drain(KeelThread owner, int max);

    /** True when no message is waiting (a snapshot; producers may add at any time). */
    boolean isEmpty();

    /** Messages queued and not yet run (approximate while producers are active). */
    int size();
}
