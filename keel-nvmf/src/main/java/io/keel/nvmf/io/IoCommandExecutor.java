package io.keel.nvmf.io;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevIoWaiter;
import io.keel.bdev.IoType;
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
 * <p>Each command in flight uses a request slot allocated up front (one per queue entry): the slot is the bdev
 * completion callback and owns a {@link BdevIoWaiter}, so an -ENOMEM from submission parks the command in the
 * channel's io-wait queue and resubmits it when a bdev_io is freed (rule R6) — nothing is allocated per command
 * while the slots last. Every method runs on the owner thread only.
 *
 * <p>Status mapping (as SPDK's nvmf bdev controller does it): unknown NSID → Invalid Namespace or Format;
 * SLBA+NLB beyond the namespace → LBA Out of Range; a data length other than NLB × block size → Data SGL Length
 * Invalid; unknown opcode or an I/O type the bdev does not support → Invalid Opcode; bdev FAILED → Internal
 * Error; NVME_ERROR → the bdev's SCT/SC; ABORTED → Command Abort Requested; MISCOMPARE → Compare Failure.
 */
public final class IoCommandExecutor {
    private final KeelThread owner;
    private Namespace[] namespaces;
    /** This thread's channel per NSID (index), taken lazily; null where none was taken yet. */
    @SuppressWarnings("unchecked")
    private IoChannel<BdevChannel>[] channels = new IoChannel[0];
    /** The namespace each channel in {@link #channels} was taken for. */
    private Namespace[] channelOwners = new Namespace[0];
    private Slot[] free;
    private int freeCount;
    private int inFlight;
    private long ioWaits;
    private int waitingForIo;
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
        if (depth < 1) {
            throw new IllegalArgumentException("depth " + depth);
        }
        this.owner = KeelThread.current();
        if (owner == null) {
            throw new IllegalStateException("an I/O command executor is created on its owner thread");
        }
        this.namespaces = namespaceTable.clone();
        this.free = new Slot[depth];
        for (int i = 0; i < depth; i++) {
            free[i] = new Slot();
        }
        this.freeCount = depth;
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
        if (inFlight == 0) {
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
        return inFlight;
    }

    /** Commands waiting for a bdev_io now (SPDK's pending_bdev_io). */
    public int waitingForBdevIo() {
        return waitingForIo;
    }

    /** Commands completed since the executor was created. */
    public long completed() {
        return completed;
    }

    /** Times a submission found no bdev_io and waited (R6 statistics). */
    public long ioWaits() {
        return ioWaits;
    }

    /**
     * Stops taking commands and puts this thread's channels, at once or when the last command in flight has
     * completed. Idempotent.
     */
    public void close() {
        checkThread();
        closing = true;
        if (inFlight == 0) {
            releaseAll();
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
        int blockSize = bdev.blockSize();
        Slot s;
        switch (opcode) {
            case Opcode.READ, Opcode.WRITE, Opcode.COMPARE, Opcode.WRITE_ZEROES -> {
                Sqe.ReadWrite rw = sqe.rw();
                long slba = rw.slba();
                long nlb = rw.blockCount();
                if (slba < 0 || slba > numBlocks - nlb) {
                    complete(cmd, Status.LBA_OUT_OF_RANGE, true);
                    return;
                }
                MemorySegment buf = null;
                if (opcode != Opcode.WRITE_ZEROES) {
                    long bytes = nlb * blockSize;
                    MemorySegment data = cmd.data();
                    if (cmd.length() != bytes || data == null || data.byteSize() < bytes) {
                        complete(cmd, Status.DATA_SGL_LENGTH_INVALID, true);
                        return;
                    }
                    s = take((int) nsid);
                    buf = s.exact(data, bytes);
                } else {
                    s = take((int) nsid);
                }
                s.start(cmd, desc, ch, opcode, slba, nlb, buf);
            }
            case Opcode.FLUSH -> {
                if (!bdev.writeCache() || !bdev.supports(IoType.FLUSH)) {
                    complete(cmd, Status.SUCCESS, false); // nothing volatile to flush
                    return;
                }
                s = take((int) nsid);
                s.start(cmd, desc, ch, opcode, 0, numBlocks, null);
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
                DsmRange r = dsmCheck;
                for (int i = 0; i < nr; i++) {
                    r.wrap(data, (long) i * DsmRange.SIZE);
                    long slba = r.slba();
                    long len = r.length();
                    if (slba < 0 || slba > numBlocks - len) {
                        complete(cmd, Status.LBA_OUT_OF_RANGE, true);
                        return;
                    }
                }
                s = take((int) nsid);
                s.startDsm(cmd, desc, ch, data, nr);
            }
        }
    }

    private final DsmRange dsmCheck = new DsmRange();

    private Slot take(int nsid) {
        Slot s;
        if (freeCount > 0) {
            s = free[--freeCount];
            free[freeCount] = null;
        } else {
            s = new Slot(); // more commands than queue entries: a transport bug, but never fail a command for it
        }
        inFlight++;
        inFlightByNsid[nsid]++;
        s.nsid = nsid;
        return s;
    }

    private void release(Slot s) {
        inFlight--;
        inFlightByNsid[s.nsid]--;
        if (freeCount == free.length) {
            Slot[] bigger = new Slot[free.length * 2];
            System.arraycopy(free, 0, bigger, 0, freeCount);
            free = bigger;
        }
        free[freeCount++] = s;
        if (inFlight == 0) {
            if (closing) {
                releaseAll();
            } else {
                releaseStaleChannels();
            }
        }
        if (!drainWaiters.isEmpty()) {
            checkDrained();
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
            if (inFlight > 0) {
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

    // ---- one command in flight ----

    /** A request slot: the state of one command, its bdev completion callback and its io-wait entry. */
    private final class Slot extends BdevIoWaiter implements BdevIoCallback {
        private int nsid;
        private AdminCommand cmd;
        private BdevDesc desc;
        private BdevChannel ch;
        private int opcode;
        private long slba;
        private long nlb;
        private MemorySegment buf;
        // Dataset Management
        private MemorySegment ranges;
        private int rangeCount;
        private int rangeIndex;
        private final DsmRange range = new DsmRange();
        // a one-entry cache of the exact-length view of the last data buffer
        private MemorySegment sliceBase;
        private MemorySegment slice;

        /** {@code data} cut to {@code bytes} (the same segment when it has that size; cached per slot). */
        MemorySegment exact(MemorySegment data, long bytes) {
            if (data.byteSize() == bytes) {
                return data;
            }
            if (sliceBase != data || slice.byteSize() != bytes) {
                sliceBase = data;
                slice = data.asSlice(0, bytes);
            }
            return slice;
        }

        void start(AdminCommand c, BdevDesc d, BdevChannel channel, int op, long lba, long blocks, MemorySegment b) {
            cmd = c;
            desc = d;
            ch = channel;
            opcode = op;
            slba = lba;
            nlb = blocks;
            buf = b;
            submit();
        }

        void startDsm(AdminCommand c, BdevDesc d, BdevChannel channel, MemorySegment data, int nr) {
            cmd = c;
            desc = d;
            ch = channel;
            opcode = Opcode.DATASET_MANAGEMENT;
            ranges = data;
            rangeCount = nr;
            rangeIndex = 0;
            nextRange();
        }

        /** Submits the next non-empty range, or completes the command when none is left. */
        private void nextRange() {
            while (rangeIndex < rangeCount) {
                range.wrap(ranges, (long) rangeIndex * DsmRange.SIZE);
                long len = range.length();
                if (len > 0) {
                    slba = range.slba();
                    nlb = len;
                    submit();
                    return;
                }
                rangeIndex++;
            }
            finish(0, false);
        }

        private void submit() {
            int rc = switch (opcode) {
                case Opcode.READ -> desc.read(ch, buf, slba, nlb, this, null);
                case Opcode.WRITE -> desc.write(ch, buf, slba, nlb, this, null);
                case Opcode.COMPARE -> desc.compare(ch, buf, slba, nlb, this, null);
                case Opcode.WRITE_ZEROES -> desc.writeZeroes(ch, slba, nlb, this, null);
                case Opcode.FLUSH -> desc.flush(ch, slba, nlb, this, null);
                default -> desc.unmap(ch, slba, nlb, this, null);
            };
            if (rc == 0) {
                return;
            }
            if (rc == -Errno.ENOMEM) { // wait for a bdev_io (R6)
                ioWaits++;
                waitingForIo++;
                ch.queueIoWait(this);
                return;
            }
            finish(switch (rc) {
                case -Errno.ENOTSUP -> Status.INVALID_OPCODE;
                case -Errno.EINVAL -> Status.INVALID_FIELD; // (range and length were checked before)
                case -Errno.EBADF -> Status.INVALID_NAMESPACE_OR_FORMAT; // the namespace's descriptor is closed
                default -> Status.INTERNAL_ERROR;
            }, true);
        }

        @Override
        public void ioAvailable() {
            waitingForIo--;
            submit();
        }

        @Override
        public void done(BdevIo io, boolean success, Object arg) {
            BdevIoStatus st = io.status();
            int sct = io.nvmeSct();
            int sc = io.nvmeSc();
            io.free();
            if (success) {
                if (opcode == Opcode.DATASET_MANAGEMENT) {
                    rangeIndex++;
                    nextRange();
                    return;
                }
                finish(0, false);
                return;
            }
            switch (st) {
                case MISCOMPARE -> finish(Status.COMPARE_FAILURE, false);
                case ABORTED -> finish(Status.ABORT_REQUESTED, false);
                case NVME_ERROR -> finish(Status.code(sct, sc), false);
                default -> finish(Status.INTERNAL_ERROR, false);
            }
        }

        /** Releases the slot, then completes the command (which may execute a new one on this slot). */
        private void finish(int code, boolean dnr) {
            AdminCommand c = cmd;
            cmd = null;
            desc = null;
            ch = null;
            buf = null;
            ranges = null;
            release(this);
            complete(c, code, dnr);
        }
    }
}
