package io.keel.nvmf.tcp;

import io.keel.nvme.spec.Sqe;
import io.keel.nvmf.ctrlr.AdminCommand;
import io.keel.nvmf.transport.ForwardedCommand;
import java.lang.foreign.MemorySegment;

/**
 * One command of a {@link TcpQpairConnection}, from its {@link RequestTable} (its index is the R2T transfer
 * tag). Valid from {@link CommandHandler#command} until {@link #complete}; the handler must not keep it
 * afterwards. Owner thread only.
 */
public final class TcpRequest implements AdminCommand {
    /** Where a request is in its life. */
    public enum State {
        /** In the pool. */
        FREE,
        /** Waiting in the connection's queue for a data buffer. */
        AWAITING_BUFFER,
        /** Its capsule's in-capsule data is arriving. */
        RECEIVING_CAPSULE_DATA,
        /** An R2T is out; H2CData is arriving. */
        AWAITING_H2C_DATA,
        /** With the handler. */
        EXECUTING
    }

    private TcpQpairConnection connection;
    private final int index;
    private final Sqe sqe = new Sqe();
    private final MemorySegment inCapsuleBuffer;
    private MemorySegment inCapsuleView;

    State state = State.FREE;
    int cid;
    DataDirection direction = DataDirection.NONE;
    long length;
    boolean inCapsule;
    MemorySegment data;
    boolean ownsBuffer;
    /** H2C: bytes received so far (data arrives in order); end of the outstanding R2T. */
    long received;
    long r2tEnd;
    /** A transport failure (status code) seen while receiving data; the handler is not called. */
    int failedStatus;

    /** How this request travels to the application thread (Connect and admin commands of a {@link TcpQpair}). */
    final ForwardedCommand<TcpRequest> forwarded = new ForwardedCommand<>();

    TcpRequest(int index, MemorySegment sqeSlot, MemorySegment inCapsuleBuffer) {
        this.index = index;
        this.sqe.wrap(sqeSlot, 0);
        this.inCapsuleBuffer = inCapsuleBuffer;
    }

    /** Belongs to {@code c} from now (null: back in the pool), free. */
    void attach(TcpQpairConnection c) {
        connection = c;
        reset();
    }

    void reset() {
        state = State.FREE;
        cid = 0;
        direction = DataDirection.NONE;
        length = 0;
        inCapsule = false;
        data = null;
        ownsBuffer = false;
        received = 0;
        r2tEnd = 0;
        failedStatus = 0;
    }

    MemorySegment inCapsuleBuffer() {
        return inCapsuleBuffer;
    }

    /** The in-capsule buffer cut to this command's length (the view is kept while the length repeats). */
    MemorySegment inCapsuleData() {
        if (inCapsuleView == null || inCapsuleView.byteSize() != length) {
            inCapsuleView = inCapsuleBuffer.asSlice(0, length);
        }
        return inCapsuleView;
    }

    /** Pool index, used as the R2T TTAG. */
    public int index() {
        return index;
    }

    public State state() {
        return state;
    }

    /** Command identifier (SQE CID). */
    public int cid() {
        return cid;
    }

    /** The command, a copy owned by this request (stays valid while the connection decodes more PDUs). */
    @Override
    public Sqe sqe() {
        return sqe;
    }

    public DataDirection direction() {
        return direction;
    }

    /** Data length from the SGL descriptor (0 for commands without data). */
    @Override
    public long length() {
        return length;
    }

    /** Whether the data came in the command capsule. */
    public boolean inCapsule() {
        return inCapsule;
    }

    /**
     * The data buffer ({@link #length()} bytes from offset 0 are the command's data): for writes it holds the
     * data; for reads the handler fills it. Null for commands without data.
     */
    @Override
    public MemorySegment data() {
        return data;
    }

    /**
     * For a read: sends the data from the handler's own {@code buffer} (e.g. a cached block) instead of the
     * connection's; the connection releases its own one, if any, at once and never releases {@code buffer}.
     */
    public TcpRequest data(MemorySegment buffer) {
        if (state != State.EXECUTING) {
            throw new IllegalStateException("request " + index + " is not executing: " + state);
        }
        if (buffer.byteSize() < length) {
            throw new IllegalArgumentException("buffer smaller than the transfer: " + buffer.byteSize());
        }
        connection.releaseBuffer(this);
        this.data = buffer;
        return this;
    }

    /**
     * Completes the command with CQE status field {@code statusField} (see {@code Status.field}) and DW0
     * {@code dw0}. For a successful read the data ({@link #length()} bytes of {@link #data()}) is sent first.
     */
    public void complete(int statusField, int dw0) {
        complete(statusField, dw0, 0);
    }

    @Override
    public void complete(int statusField, int dw0, int dw1) {
        if (state != State.EXECUTING) {
            throw new IllegalStateException("request " + index + " is not executing: " + state);
        }
        connection.completed(this, statusField, dw0, dw1);
    }

    @Override
    public String toString() {
        return "TcpRequest[" + index + ", cid=" + cid + ", " + state + ", " + direction + " " + length + "]";
    }
}
