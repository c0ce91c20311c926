package io.keel.nvmf.transport;

import io.keel.core.thread.MessageFn;
import io.keel.nvme.spec.Sqe;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.ctrlr.AdminCommand;
import io.keel.nvmf.ctrlr.ControllerManager;
import java.lang.foreign.MemorySegment;

/**
 * A command of a qpair executed by the controller logic on the application thread (Connect, and every admin
 * command): the application thread reads the request's SQE and data and answers through {@link #complete}, which
 * sends the status back to the qpair's own thread (rules R1, R2), where {@link Owner#forwardedDone} completes the
 * request. One per transport request, kept with it (and with its pooled table), so forwarding allocates nothing.
 *
 * @param <R> the transport's request type
 */
public final class ForwardedCommand<R extends AdminCommand> implements AdminCommand {
    /** The qpair a forwarded command belongs to: it hears the answer on its thread. */
    public interface Owner<R extends AdminCommand> extends TargetQpair {
        /** The answer to {@code f} (for {@code request}) arrived back on this qpair's thread. */
        void forwardedDone(ForwardedCommand<R> f, R request, int status, int dw0, int dw1);
    }

    @SuppressWarnings("rawtypes")
    private static final MessageFn<ForwardedCommand> DELIVER = ForwardedCommand::deliver;

    private Owner<R> qpair;
    private R request;
    private int status;
    private int dw0;
    private int dw1;
    /** While true (a Connect in progress), {@link #complete} only records; {@link #send} delivers. */
    private boolean holding;
    /** What a successful Connect bound the queue to, and the namespaces an I/O queue starts with. */
    private ControllerManager.Binding binding;
    private Namespace[] namespaces;

    /** Takes {@code r} of {@code q} (on the qpair's thread) before it is handed to the application thread. */
    public ForwardedCommand<R> bind(Owner<R> q, R r, boolean hold) {
        qpair = q;
        request = r;
        holding = hold;
        binding = null;
        namespaces = null;
        return this;
    }

    public TargetQpair qpair() {
        return qpair;
    }

    /** What a successful Connect bound the queue to; null if it failed (or for an admin command). */
    public ControllerManager.Binding binding() {
        return binding;
    }

    /** The namespace table a freshly bound I/O queue starts with. */
    public Namespace[] namespaces() {
        return namespaces;
    }

    void bound(ControllerManager.Binding b, Namespace[] table) {
        binding = b;
        namespaces = table;
    }

    @Override
    public Sqe sqe() {
        return request.sqe();
    }

    @Override
    public MemorySegment data() {
        return request.data();
    }

    @Override
    public long length() {
        return request.length();
    }

    @Override
    public void complete(int statusField, int dw0, int dw1) {
        this.status = statusField;
        this.dw0 = dw0;
        this.dw1 = dw1;
        if (!holding) {
            send();
        }
    }

    /** Delivers the recorded completion to the qpair's thread. */
    void send() {
        holding = false;
        qpair.thread().send(DELIVER, this);
    }

    private void deliver() {
        R r = request;
        request = null;
        qpair.forwardedDone(this, r, status, dw0, dw1);
    }
}
