package io.keel.nvmf.rdma;

import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.Sqe;
import io.keel.nvmf.ctrlr.AdminCommand;
import io.keel.nvmf.transport.ForwardedCommand;
import java.lang.foreign.MemorySegment;

/**
 * One command slot of an {@link RdmaQpair}: slot {@code i} owns response buffer {@code i} (the CQE it SENDs) and its
 * stretch of the qpair's send work requests (its RDMA READs or WRITEs, then its response), and while it runs a
 * command, the receive buffer its capsule arrived in (SQE and in-capsule data, read in place: the qpair's own or its
 * poll group's shared receive queue's). Made once per qpair; nothing is allocated per command. Owner thread only.
 */
final class RdmaRequest implements AdminCommand {
    /** Where a command is in its life (SPDK's RDMA request states, folded). */
    enum State {
        /** No command. */
        FREE,
        /** Waiting in its poll group's queue for a data buffer and a data work request (rule R6). */
        NEED_DATA,
        /** Waiting for the qpair's RDMA READ depth, then reading the host's data. */
        READING,
        /** With the controller logic or the bdev layer. */
        EXECUTING,
        /** Its response (and a read's data) is posted; free when the SEND completes. */
        COMPLETING
    }

    final RdmaQpair qpair;
    final int index;
    private final Sqe sqe = new Sqe();
    final Cqe cqe = new Cqe();
    /** Where {@link #cqe} lies, for the SEND. */
    final long responseAddress;
    final RdmaSgl sgl = new RdmaSgl();
    /** How this request travels to the application thread (Connect and admin commands). */
    final ForwardedCommand<RdmaRequest> forwarded = new ForwardedCommand<>();

    State state = State.FREE;
    /** The receive buffer holding this command's capsule, or -1 once it went back. */
    int capsule = -1;
    long receivedNanos;
    /** The iobuf buffers this command holds (keyed SGL): the first {@link #bufferCount}. */
    final MemorySegment[] buffers;
    /** The same, each cut to its piece of the command's data: what the RDMA work requests and the bdev layer move. */
    final MemorySegment[] pieces;
    int bufferCount;
    /** The command's data as the executor sees it in one buffer (exact length), or null (none, or in pieces). */
    MemorySegment data;
    /** The group's data work requests it holds: one per RDMA READ or WRITE work request its data takes. */
    int dataWrs;
    /** RDMA READs of its data posted and not yet completed (its signaled last one completes for all). */
    int readsPosted;

    RdmaRequest(RdmaQpair qpair, int index, MemorySegment response, int maxBuffers) {
        this.qpair = qpair;
        this.index = index;
        this.cqe.wrap(response, 0);
        this.responseAddress = response.address();
        this.buffers = new MemorySegment[maxBuffers];
        this.pieces = new MemorySegment[maxBuffers];
    }

    /** The command in receive buffer {@code buffer}, whose capsule is {@code capsule}, is this slot's now. */
    void attach(int buffer, MemorySegment capsule) {
        this.capsule = buffer;
        sqe.wrap(capsule, 0);
    }

    @Override
    public Sqe sqe() {
        return sqe;
    }

    @Override
    public MemorySegment data() {
        return data;
    }

    @Override
    public MemorySegment[] dataPieces() {
        return data == null && bufferCount > 1 ? pieces : null;
    }

    @Override
    public int dataPieceCount() {
        return data == null && bufferCount > 1 ? bufferCount : 0;
    }

    @Override
    public long length() {
        return sgl.length();
    }

    @Override
    public void complete(int statusField, int dw0, int dw1) {
        if (state != State.EXECUTING) {
            throw new IllegalStateException("request " + index + " is not executing: " + state);
        }
        qpair.completed(this, statusField, dw0, dw1);
    }

    @Override
    public String toString() {
        return "RdmaRequest[" + index + ", " + state + ", " + sgl.kind() + " " + sgl.length() + "]";
    }
}
