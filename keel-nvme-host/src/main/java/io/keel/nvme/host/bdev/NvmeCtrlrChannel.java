package io.keel.nvme.host.bdev;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.HostQpair;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's I/O queue to one controller (SPDK's {@code nvme_ctrlr_channel}): the context of the controller's
 * io_device, so every bdev of the controller used on this thread shares it. The queue is connected on this
 * thread, in this thread's poll group, and only this thread touches it (R1); a loss it sees is sent to the
 * controller's thread (R2), which decides about resets.
 */
final class NvmeCtrlrChannel implements HostQpair.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeCtrlrChannel.class);
    private static final int SEND_BUFFER = 256 << 10;

    private final NvmeCtrlr ctrlr;
    private final KeelThread thread;
    private final IoChannel<NvmePollGroup> pollGroup;
    private HostQpair qpair;
    /** The address the queue was made for (after a failover it is made anew at the new one). */
    private io.keel.nvme.host.TransportId qpairTrid;
    private IntConsumer connectDone;
    /** Why the queue was last lost (a failed connect included), for the report. */
    private String lastLoss;

    NvmeCtrlrChannel(NvmeCtrlr ctrlr, KeelThread thread) {
        this.ctrlr = ctrlr;
        this.thread = thread;
        this.pollGroup = thread.getIoChannel(ctrlr.module().pollGroups());
        if (ctrlr.state() == NvmeCtrlr.State.ENABLED) {
            // a queue whose first connect fails is a lost path, as one lost later: the controller resets (or
            // fails) it, rather than leaving this thread's I/O waiting for a queue nobody makes
            connect(rc -> {
                if (rc != 0 && qpair != null) {
                    reportLoss("its first connect failed: " + lastLoss);
                } else if (rc != 0) {
                    LOG.warn("nvme: {}: no I/O queue for thread {} (every granted queue is in use); its I/O waits",
                            ctrlr.group().name(), thread.name());
                }
            });
        }
    }

    NvmeCtrlr ctrlr() {
        return ctrlr;
    }

    /** The queue when it can take commands now, else null. */
    HostQpair ready() {
        HostQpair q = qpair;
        return q != null && q.state() == HostQpair.State.CONNECTED ? q : null;
    }

    /** The queue, whatever its state (null before the controller first let it be made). */
    HostQpair qpair() {
        return qpair;
    }

    /** Whether a connect of this thread's queue is under way (I/O should wait for it). */
    boolean connecting() {
        return qpair != null && qpair.state() == HostQpair.State.CONNECTING;
    }

    /** Connects the queue (making it first if needed); {@code done} hears 0 once connected, -1 if that failed. */
    void connect(IntConsumer done) {
        HostController host = ctrlr.host();
        if (qpair != null && !host.trid().equals(qpairTrid)
                && qpair.state() == HostQpair.State.DISCONNECTED) {
            freeQpair();
        }
        if (qpair == null) {
            qpairTrid = host.trid();
            qpair = host.newIoQpair(pollGroup.context().group, ctrlr.ioQueueSize(), ctrlr.ioQueueRequests(),
                    SEND_BUFFER, this);
            if (qpair == null) {
                done.accept(-1);
                return;
            }
            long timeoutUs = ctrlr.module().options().timeoutUs();
            if (timeoutUs > 0) {
                String where = thread.name();
                qpair.commandTimeout(timeoutUs * 1000, (q, cid, opcode, expiries) -> ctrlr.thread()
                        .send(() -> ctrlr.ioTimedOut(where, q.qid(), cid, opcode, expiries)));
            }
        }
        switch (qpair.state()) {
            case CONNECTED -> done.accept(0);
            case DISCONNECTED -> {
                connectDone = done;
                qpair.connect(host.data().cntlid());
            }
            default -> done.accept(-1);
        }
    }

    @Override
    public void connected(HostQpair q) {
        IntConsumer d = connectDone;
        connectDone = null;
        if (d != null) {
            d.accept(0);
        }
    }

    @Override
    public void lost(HostQpair q, String reason) {
        lastLoss = reason;
        IntConsumer d = connectDone;
        connectDone = null;
        if (d != null) {
            d.accept(-1);
            return;
        }
        reportLoss(reason);
    }

    /** Tells the controller's thread (R2) that this thread's queue is gone. */
    private void reportLoss(String reason) {
        String where = thread.name();
        ctrlr.thread().send(() -> ctrlr.ioQueueLost(where, reason));
    }

    /** Disconnects the queue (its commands end aborted and are retried by their bdev channels). */
    void disconnect(Runnable done) {
        if (qpair == null) {
            done.run();
            return;
        }
        IntConsumer d = connectDone;
        connectDone = null;
        qpair.disconnect("controller reset", done);
        if (d != null) {
            d.accept(-1);
        }
    }

    /** The channel goes (last put): disconnect, free the queue and its ID, let go of the poll group. */
    void release(Runnable released) {
        disconnect(() -> {
            freeQpair();
            pollGroup.put();
            released.run();
        });
    }

    private void freeQpair() {
        if (qpair != null) {
            qpair.close();
            ctrlr.host().releaseQid(qpair.qid());
            qpair = null;
        }
    }
}
