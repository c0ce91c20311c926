package io.keel.nvmf.tcp;

import io.keel.core.thread.MessageFn;
import io.keel.nvme.spec.Sqe;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.ctrlr.AdminCommand;
import io.keel.nvmf.ctrlr.ControllerManager;
import java.lang.foreign.MemorySegment;

/**
 * A command of a qpair executed by the controller logic on the application thread (Connect, and every admin
 * command): the application thread reads the request's SQE and data and answers through {@link #complete},
 * which sends the status back to the qpair's own thread (rules R1, R2), where the request completes. One per
 * request, kept with it (and with its pooled {@link RequestTable}), so forwarding allocates nothing.
 */
final class ForwardedCommand implements AdminCommand {
    private static final MessageFn<ForwardedCommand> DELIVER = ForwardedCommand::deliver;

    private TcpQpair qpair;
    private TcpRequest request;
    private int status;
    private int dw0;
    private int dw1;
    /** While true (a Connect in progress), {@link #complete} only records; {@link #send} delivers. */
    private boolean holding;
    /** What a successful Connect bound the queue to, and the namespaces an I/O queue starts with. */
    ControllerManager.Binding binding;
    Namespace[] namespaces;

    /** Takes {@code r} of {@code q} (on the qpair's thread) before it is handed to the application thread. */
    ForwardedCommand bind(TcpQpair q, TcpRequest r, boolean hold) {
        qpair = q;
        request = r;
        holding = hold;
        binding = null;
        namespaces = null;
        return this;
    }

    TcpQpair qpair() {
        return qpair;
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
        TcpRequest r = request;
        request = null;
        qpair.forwardedDone(this, r, status, dw0, dw1);
    }
}
