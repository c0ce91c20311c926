package io.keel.nvmf.transport;

import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.ctrlr.AdminCommand;
import io.keel.nvmf.ctrlr.ControllerManager;
import io.keel.nvmf.ctrlr.QueueActivity;
import io.keel.nvmf.io.IoCommandExecutor;

/**
 * The transport-neutral state machine of a target queue pair: which commands it takes in each state and where
 * they go — a Fabrics Connect, and then every admin command, to the controller logic on the application thread
 * (through the {@link QpairRegistry}, as {@link ForwardedCommand}s), I/O commands to the queue's
 * {@link IoCommandExecutor} on its own thread — and what binding to a controller, a namespace change and the end do.
 * A transport's qpair owns one and feeds it decoded commands; it moves bytes, the machine decides. Owner thread
 * only (rule R1).
 *
 * <p>States (rule R5): {@code AWAITING_CONNECT} (only a Fabrics Connect is taken) → {@code CONNECTING} (the
 * Connect is on the application thread) → {@code ENABLED} (bound to its controller) → {@code CLOSED} (final).
 * A failed Connect goes back to {@code AWAITING_CONNECT}; a Connect answered after the queue closed is undone.
 *
 * @param <R> the transport's request type
 */
public final class QpairCommands<R extends AdminCommand> {
    /** Where a queue is in its life. */
    public enum State { AWAITING_CONNECT, CONNECTING, ENABLED, CLOSED }

    /** What the transport's qpair does for its state machine. */
    public interface Queue<R extends AdminCommand> extends ForwardedCommand.Owner<R> {
        /** The carrier that takes {@code r} to the application thread (one per request, reused). */
        ForwardedCommand<R> forwarded(R r);

        /**
         * A Connect is about to go to the application thread: take what the queue will need, or refuse it by
         * completing {@code r} (and return false).
         */
        boolean reserve(R r);

        /** The Connect bound the queue as {@code qid}: returns the depth its I/O commands may reach. */
        int bound(int qid);
    }

    private final Queue<R> queue;
    private final QpairRegistry registry;
    private State state = State.AWAITING_CONNECT;
    private int qid = -1;
    private ControllerManager.Binding binding;
    private QueueActivity activity;
    private IoCommandExecutor executor;

    public QpairCommands(Queue<R> queue, QpairRegistry registry) {
        this.queue = queue;
        this.registry = registry;
    }

    public State state() {
        return state;
    }

    /** The queue's ID once bound; -1 before. */
    public int qid() {
        return qid;
    }

    /** What the Connect bound the queue to (its controller); null before. */
    public ControllerManager.Binding binding() {
        return binding;
    }

    /** Marks the controller alive: a command arrived at {@code nowNanos} (once bound; rule R8). */
    public void touch(long nowNanos) {
        if (activity != null) {
            activity.touch(nowNanos);
        }
    }

    /** I/O commands waiting for a bdev_io now. */
    public int waitingForBdevIo() {
        return executor == null ? 0 : executor.waitingForBdevIo();
    }

    /** I/O commands this queue completed. */
    public long completedIo() {
        return executor == null ? 0 : executor.completed();
    }

    /** Executes or forwards a decoded command, or completes it with the status its state calls for. */
    public void command(R r) {
        Sqe sqe = r.sqe();
        boolean fabrics = sqe.opcode() == Opcode.FABRICS;
        switch (state) {
            case AWAITING_CONNECT -> {
                if (fabrics && sqe.fabrics().fctype() == Opcode.Fabrics.CONNECT) {
                    if (queue.reserve(r)) {
                        state = State.CONNECTING;
                        registry.connect(queue.forwarded(r).bind(queue, r, true));
                    }
                } else {
                    r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0, 0);
                }
            }
            case CONNECTING -> r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0, 0);
            case ENABLED -> {
                if (qid == 0) {
                    registry.adminCommand(queue.forwarded(r).bind(queue, r, false));
                } else if (fabrics) {
                    ioQueueFabrics(r);
                } else {
                    executor.execute(r);
                }
            }
            case CLOSED -> r.complete(Status.field(Status.ABORTED_SQ_DELETION, false), 0, 0);
            default -> throw new IllegalStateException(state.name());
        }
    }

    /** Fabrics commands on an I/O queue: a second Connect is a sequence error, properties live on the admin queue. */
    private void ioQueueFabrics(R r) {
        int fctype = r.sqe().fabrics().fctype();
        if (fctype == Opcode.Fabrics.DISCONNECT) {
            r.complete(Status.field(Status.SUCCESS, false), 0, 0);
            queue.close("host sent Disconnect");
        } else if (fctype == Opcode.Fabrics.CONNECT) {
            r.complete(Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0, 0);
        } else {
            r.complete(Status.field(Status.INVALID_OPCODE, true), 0, 0);
        }
    }

    /**
     * A forwarded command's answer came back ({@link ForwardedCommand.Owner#forwardedDone}, before the qpair
     * completes the request): a successful Connect binds the queue, a failed one lets the host try again.
     */
    public void answered(ForwardedCommand<R> f) {
        ControllerManager.Binding b = f.binding();
        if (b == null) {
            if (state == State.CONNECTING) {
                state = State.AWAITING_CONNECT;
            }
            return;
        }
        if (state != State.CONNECTING) {
            registry.queueGone(queue, b); // closed while the Connect ran: undo it
            return;
        }
        binding = b;
        qid = b.qid();
        activity = b.activity();
        int depth = queue.bound(qid);
        if (qid > 0) {
            executor = new IoCommandExecutor(f.namespaces(), depth);
        }
        state = State.ENABLED;
    }

    /** The subsystem's namespaces changed: {@code drained} once no command is in flight on one that left. */
    public void namespacesChanged(Namespace[] table, Runnable drained) {
        if (executor != null && state == State.ENABLED) {
            executor.updateNamespaces(table, drained);
        } else {
            drained.run();
        }
    }

    /**
     * The queue closes: no more commands; those at the bdev layer come back aborted or done; a bound queue is
     * gone from the registry (an admin queue takes its controller with it). Idempotent. Returns the I/O commands
     * it completed in its life.
     */
    public long close() {
        if (state == State.CLOSED) {
            return 0;
        }
        State was = state;
        state = State.CLOSED;
        long completed = 0;
        if (executor != null) {
            executor.close();
            completed = executor.completed();
        }
        if (was == State.ENABLED) {
            registry.queueGone(queue, binding);
        }
        return completed;
    }
}
