package io.keel.nvmf.io;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevException;
import io.keel.bdev.IoType;
import io.keel.bdev.exec.RequestExecutor;
import io.keel.bdev.exec.RequestStatus;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.spec.DsmRange;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.ctrlr.AdminCommand;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Executes the NVM command set I/O commands of one I/O queue on its owner thread (a poll group's thread): Read,
 * Write, Flush, Write Zeroes, Dataset Management (deallocate: one unmap per range, one after another) and
 * Compare, against the namespaces of one subsystem through this thread's bdev channels (one per namespace,
 * obtained on first use, put on {@link #close()}).
 *
 * <p>This is the NVMe half: decoding, the namespace table and its channels, and NVMe status. The request slots
 * (one per queue entry, nothing allocated per command), the waits for a bdev_io and the drain at close are the
 * bdev layer's transport-neutral {@link RequestExecutor}. Every method runs on the owner thread only.
 *
 * <p>Status mapping (as SPDK's nvmf bdev controller does it): unknown NSID → Invalid Namespace or Format;
 * SLBA+NLB beyond the namespace → LBA Out of Range; a data length other than NLB × block size → Data SGL Length
 * Invalid; unknown opcode or an I/O type the bdev does not support → Invalid Opcode; bdev FAILED → Internal
 * Error; NVME_ERROR → the bdev's SCT/SC; ABORTED → Command Abort Requested; MISCOMPARE → Compare Failure; a command
 * the queue's close found still waiting for a bdev_io, or that arrives after it → Command Aborted due to SQ Deletion.
 */
public final class IoCommandExecutor {
    /** How long a closing queue waits for commands at the bdev layer before it says so (it keeps waiting). */
    static final long CLOSE_BOUND_NANOS = 5_000_000_000L;

    private final KeelThread owner;
    private final RequestExecutor<AdminCommand> requests;
    private final DsmRanges dsmRanges = new DsmRanges();
    private Namespace[] namespaces;
    /** This thread's channel per NSID (index), taken lazily; null where none was taken yet. */
    @SuppressWarnings("unchecked")
    private IoChannel<BdevChannel>[] channels = new IoChannel[0];
    /** The namespace each channel in {@link #channels} was taken for. */
    private Namespace[] channelOwners = new Namespace[0];
    /** Commands in flight per NSID (indexed like {@link #channels}). */
    private int[] inFlightByNsid = new int[0];
    private final List<Runnable> drainWaiters = new ArrayList<>();
    private long completed;
    private boolean closing;
    private boolean closed;

    /**
     * An executor for a queue of {@code depth} entries on the calling thread, for the namespaces in
     * {@code namespaceTable} (from {@link #namespaceTable}).
     */
    public IoCommandExecutor(Namespace[] namespaceTable, int depth) {
        this.owner = KeelThread.current();
        if (owner == null) {
            throw new IllegalStateException("an I/O command executor is created on its owner thread");
        }
        this.requests = new RequestExecutor<>("nvmf_io_queue", depth, this::commandDone);
        this.namespaces = namespaceTable.clone();
    }

    /**
     * A snapshot of {@code subsystem}'s namespaces indexed by NSID (index 0 and gaps are null), taken on the
     * subsystem's owner (the application thread) and handed to the I/O thread.
     */
    public static Namespace[] namespaceTable(NvmfSubsystem subsystem) {
        long max = 0;
        for (Namespace ns : subsystem.namespaces()) {
            max = Math.max(max, ns.nsid());
        }
        Namespace[] t = new Namespace[(int) max + 1];
        for (Namespace ns : subsystem.namespaces()) {
            t[(int) ns.nsid()] = ns;
        }
        return t;
    }

    /**
     * Replaces the namespace table (after a namespace was added or removed). Channels taken for namespaces no
     * longer in the table are put once no command is in flight on them (here: at once if nothing is in flight,
     * else when {@link #close()} runs).
     */
    public void updateNamespaces(Namespace[] namespaceTable) {
        updateNamespaces(namespaceTable, null);
    }

    /**
     * As {@link #updateNamespaces(Namespace[])}; {@code drained} (if not null) runs on this thread once no command
     * is in flight on a namespace the new table dropped or replaced — at once if none is — or when the executor
     * closes. This is the quiesce step of a namespace change (SPDK pauses the subsystem for it).
     */
    public void updateNamespaces(Namespace[] namespaceTable, Runnable drained) {
        checkThread();
        this.namespaces = namespaceTable.clone();
        if (requests.inFlight() == 0) {
            releaseStaleChannels();
        }
        if (drained != null) {
            drainWaiters.add(drained);
            checkDrained();
        }
    }

    private void checkDrained() {
        if (drainWaiters.isEmpty()) {
            return;
        }
        if (!closing) {
            Namespace[] table = namespaces;
            for (int i = 0; i < channelOwners.length; i++) {
                boolean stale = channelOwners[i] != null && (i >= table.length || table[i] != channelOwners[i]);
                if (stale && inFlightByNsid[i] > 0) {
                    return;
                }
            }
        }
        List<Runnable> ready = List.copyOf(drainWaiters);
        drainWaiters.clear();
        ready.forEach(Runnable::run);
    }

    /** Commands accepted and not yet completed. */
    public int inFlight() {
        return requests.inFlight();
    }

    /** Commands waiting for a bdev_io now (SPDK's pending_bdev_io). */
    public int waitingForBdevIo() {
        return requests.waitingForBdevIo();
    }

    /** Commands completed since the executor was created. */
    public long completed() {
        return completed;
    }

    /** Times a command waited for a bdev_io (R6 statistics). */
    public long ioWaits() {
        return requests.ioWaits();
    }

    /**
     * Stops taking commands, aborts those still waiting for a bdev_io, and puts this thread's channels, at once or
     * when the last command at the bdev layer has completed (logged if that takes over {@link #CLOSE_BOUND_NANOS}).
     * Idempotent.
     */
    public void close() {
        checkThread();
        if (!closing) {
            closing = true;
            requests.drain(CLOSE_BOUND_NANOS, this::releaseAll);
        }
        checkDrained(); // a closing queue takes no more commands: namespace changes need not wait for it
    }

    public boolean closed() {
        return closed;
    }

    // ---- execution ----

    /** Executes {@code cmd} (an I/O command of this queue); completes it once, at once or later. */
    public void execute(AdminCommand cmd) {
        checkThread();
        if (closing) {
            complete(cmd, Status.ABORTED_SQ_DELETION, false);
            return;
        }
        Sqe sqe = cmd.sqe();
        int opcode = sqe.opcode();
        switch (opcode) {
            case Opcode.READ, Opcode.WRITE, Opcode.COMPARE, Opcode.WRITE_ZEROES, Opcode.FLUSH,
                    Opcode.DATASET_MANAGEMENT -> {
            }
            default -> {
                complete(cmd, Status.INVALID_OPCODE, true);
                return;
            }
        }
        long nsid = sqe.nsid() & 0xFFFFFFFFL;
        Namespace[] table = namespaces;
        Namespace ns = nsid > 0 && nsid < table.length ? table[(int) nsid] : null;
        if (ns == null) {
            complete(cmd, Status.INVALID_NAMESPACE_OR_FORMAT, true);
            return;
        }
        BdevChannel ch = channel(ns);
        if (ch == null) {
            complete(cmd, Status.INVALID_NAMESPACE_OR_FORMAT, true);
            return;
        }
        BdevDesc desc = ns.desc();
        Bdev bdev = desc.bdev();
        long numBlocks = bdev.numBlocks();
        switch (opcode) {
            case Opcode.READ, Opcode.WRITE, Opcode.COMPARE, Opcode.WRITE_ZEROES -> {
                Sqe.ReadWrite rw = sqe.rw();
                long slba = rw.slba();
                long nlb = rw.blockCount();
                if (slba < 0 || slba > numBlocks - nlb) {
                    complete(cmd, Status.LBA_OUT_OF_RANGE, true);
                    return;
                }
                if (opcode == Opcode.WRITE_ZEROES) {
                    inFlightByNsid[(int) nsid]++;
                    requests.writeZeroes(cmd, desc, ch, slba, nlb);
                    return;
                }
                long bytes = nlb * bdev.blockSize();
                MemorySegment data = cmd.data();
                int pieces = data == null ? cmd.dataPieceCount() : 0;
                if (cmd.length() != bytes || data == null && pieces == 0 || data != null && data.byteSize() < bytes) {
                    complete(cmd, Status.DATA_SGL_LENGTH_INVALID, true);
                    return;
                }
                inFlightByNsid[(int) nsid]++;
                if (pieces > 0) { // the transport's pieces add up to the command's length
                    MemorySegment[] v = cmd.dataPieces();
                    switch (opcode) {
                        case Opcode.READ -> requests.readv(cmd, desc, ch, v, pieces, slba, nlb);
                        case Opcode.WRITE -> requests.writev(cmd, desc, ch, v, pieces, slba, nlb);
                        default -> requests.comparev(cmd, desc, ch, v, pieces, slba, nlb);
                    }
                    return;
                }
                switch (opcode) {
                    case Opcode.READ -> requests.read(cmd, desc, ch, data, slba, nlb);
                    case Opcode.WRITE -> requests.write(cmd, desc, ch, data, slba, nlb);
                    default -> requests.compare(cmd, desc, ch, data, slba, nlb);
                }
            }
            case Opcode.FLUSH -> {
                if (!bdev.writeCache() || !bdev.supports(IoType.FLUSH)) {
                    complete(cmd, Status.SUCCESS, false); // nothing volatile to flush
                    return;
                }
                inFlightByNsid[(int) nsid]++;
                requests.flush(cmd, desc, ch, 0, numBlocks);
            }
            default -> { // Dataset Management
                Sqe.Dsm dsm = sqe.dsm();
                if (!dsm.deallocate()) {
                    complete(cmd, Status.SUCCESS, false); // attributes only: advisory, nothing to do
                    return;
                }
                int nr = dsm.rangeCount();
                MemorySegment data = cmd.data();
                long bytes = (long) nr * DsmRange.SIZE;
                if (cmd.length() < bytes || data == null || data.byteSize() < bytes) {
                    complete(cmd, Status.DATA_SGL_LENGTH_INVALID, true);
                    return;
                }
                for (int i = 0; i < nr; i++) {
                    DsmRange r = dsmRanges.at(data, i);
                    long slba = r.slba();
                    long len = r.length();
                    if (slba < 0 || slba > numBlocks - len) {
                        complete(cmd, Status.LBA_OUT_OF_RANGE, true);
                        return;
                    }
                }
                inFlightByNsid[(int) nsid]++;
                requests.unmap(cmd, desc, ch, data, nr, dsmRanges);
            }
        }
    }

    /** The request executor ended {@code cmd} (its slot is free again): NVMe status, then the completion. */
    private void commandDone(AdminCommand cmd, RequestStatus status, int detail) {
        inFlightByNsid[(int) (cmd.sqe().nsid() & 0xFFFFFFFFL)]--;
        if (requests.inFlight() == 0 && !closing) {
            releaseStaleChannels();
        }
        if (!drainWaiters.isEmpty()) {
            checkDrained();
        }
        switch (status) {
            case SUCCESS -> complete(cmd, Status.SUCCESS, false);
            case MISCOMPARE -> complete(cmd, Status.COMPARE_FAILURE, false);
            case ABORTED -> complete(cmd, Status.ABORT_REQUESTED, false);
            case NVME_ERROR -> complete(cmd, Status.code(detail >>> 8, detail & 0xFF), false);
            case FAILED -> complete(cmd, Status.INTERNAL_ERROR, false);
            case CANCELLED -> complete(cmd, Status.ABORTED_SQ_DELETION, false);
            case REFUSED -> complete(cmd, switch (-detail) {
                case Errno.ENOTSUP -> Status.INVALID_OPCODE;
                case Errno.EINVAL -> Status.INVALID_FIELD; // (range and length were checked before)
                case Errno.EBADF -> Status.INVALID_NAMESPACE_OR_FORMAT; // the namespace's descriptor is closed
                default -> Status.INTERNAL_ERROR;
            }, true);
        }
    }

    private void complete(AdminCommand cmd, int code, boolean dnr) {
        completed++;
        cmd.complete(code == Status.SUCCESS ? 0 : Status.field(code, dnr), 0, 0);
    }

    // ---- channels ----

    @SuppressWarnings("unchecked")
    private BdevChannel channel(Namespace ns) {
        int nsid = (int) ns.nsid();
        if (nsid < channels.length) {
            IoChannel<BdevChannel> c = channels[nsid];
            if (c != null && channelOwners[nsid] == ns) {
                return c.context();
            }
        } else {
            int n = Math.max(nsid + 1, namespaces.length);
            IoChannel<BdevChannel>[] bigger = new IoChannel[n];
            System.arraycopy(channels, 0, bigger, 0, channels.length);
            Namespace[] owners = new Namespace[n];
            System.arraycopy(channelOwners, 0, owners, 0, channelOwners.length);
            channels = bigger;
            channelOwners = owners;
            inFlightByNsid = Arrays.copyOf(inFlightByNsid, n);
        }
        if (channels[nsid] != null) {
            // taken for a namespace since replaced at this NSID: keep the old one until nothing is in flight
            if (requests.inFlight() > 0) {
                return null;
            }
            putChannel(nsid);
        }
        IoChannel<BdevChannel> c;
        try {
            c = ns.desc().getIoChannel();
        } catch (BdevException | IllegalStateException e) {
            return null; // the bdev is being removed
        }
        ns.channelTaken();
        channels[nsid] = c;
        channelOwners[nsid] = ns;
        return c.context();
    }

    private void releaseStaleChannels() {
        Namespace[] table = namespaces;
        for (int i = 0; i < channels.length; i++) {
            if (channels[i] != null && (i >= table.length || table[i] != channelOwners[i])) {
                putChannel(i);
            }
        }
    }

    private void releaseAll() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < channels.length; i++) {
            if (channels[i] != null) {
                putChannel(i);
            }
        }
    }

    /** Puts the channel taken at {@code nsid} (nothing in flight on it) and tells its namespace. */
    private void putChannel(int nsid) {
        channels[nsid].put();
        channels[nsid] = null;
        channelOwners[nsid].channelPut();
        channelOwners[nsid] = null;
    }

    private void checkThread() {
        if (KeelThread.current() != owner) {
            throw new IllegalStateException("I/O command executor of " + owner.name() + " used on another thread");
        }
    }
}
