package io.keel.nvmf.transport;

import io.keel.core.thread.KeelThread;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.TransportOptions;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ListenAddress;

/**
 * A queue pair of any transport as the transport-neutral layer ({@link QpairRegistry}) sees it. Its thread,
 * addresses and transport options never change, so any thread may read them; the rest runs on the qpair's own
 * thread (rule R1), reached by messages.
 */
public interface TargetQpair {
    /** The thread that owns the qpair. */
    KeelThread thread();

    /** The listener the host connected through. */
    ListenAddress listenAddress();

    /** The host's address. */
    ListenAddress peerAddress();

    /** The options of the transport the qpair belongs to (its Connect is judged against them). */
    TransportOptions transportOptions();

    /** The controller of this bound admin queue (the application thread reads it once the queue is bound). */
    Controller adminController();

    /** Closes the qpair, telling the registry if it was bound. Idempotent; owner thread. */
    void close(String reason);

    /**
     * The namespaces of this I/O queue's subsystem changed: {@code drained} runs on the owner thread once no
     * command is in flight on a namespace that left {@code table}. Owner thread.
     */
    void namespacesChanged(Namespace[] table, Runnable drained);
}
