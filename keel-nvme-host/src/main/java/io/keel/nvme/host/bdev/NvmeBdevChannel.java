package io.keel.nvme.host.bdev;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.core.mem.NativeArena;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.nvme.host.AnaState;
import io.keel.nvme.host.HostCompletion;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.HostStatus;
import io.keel.nvme.spec.DsmRange;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One thread's use of an NVMe bdev (SPDK's {@code nvme_bdev_channel}): its I/O paths (this thread's queue of each
 * controller that has the namespace), the choice of a path per I/O (the first usable one, or round robin when the
 * policy is active_active), the translation of a bdev_io into NVMe commands, and the retry queue.
 *
 * <p>An I/O that finds no usable path waits in the retry queue while some path may come back (a reset or
 * reconnect under way, before {@code fast_io_fail_timeout_sec}), and fails otherwise. A command whose queue went
 * away (ABORTED - SQ DELETION) is queued again, without counting, for whichever path works next; another
 * retryable error (DNR clear: a path error, a transient transport error) is retried up to
 * {@code bdev_retry_count} times. The queue is re-driven every millisecond while it holds anything (R6), so
 * no wait depends on an event that may not come. Reads and writes larger than the smallest MDTS of the paths go
 * as several commands one after another; write zeroes in pieces of at most 65536 blocks. Nothing is allocated per
 * I/O: the bdev_io carries its progress and retry count in {@link BdevIo#moduleValue} and the retry link in
 * {@link BdevIo#moduleNext}; unmap ranges come from a per-channel pool.
 */
final class NvmeBdevChannel {
    private static final HostCompletion DONE = NvmeBdevChannel::commandDone;
    private static final long RETRY_PERIOD_MICROS = 1000;
    private static final long PROGRESS_MASK = (1L << 48) - 1;
    private static final int RETRY_SHIFT = 48;
    private static final int MAX_WRITE_ZEROES_BLOCKS = 65536;
    private static final long MAX_DSM_RANGE_BLOCKS = 0xFFFF_FFFFL;
    private static final int DSM_SLOTS = 64;

    /** One path of this thread: the namespace, this thread's channel to its controller, and what went through it. */
    static final class IoPath {
        final NvmeNs ns;
        final IoChannel<NvmeCtrlrChannel> channel;
        long readOps;
        long readBytes;
        long writeOps;
        long writeBytes;
        long otherOps;

        IoPath(NvmeNs ns, IoChannel<NvmeCtrlrChannel> channel) {
            this.ns = ns;
            this.channel = channel;
        }

        /** The ANA state of the namespace through this path's controller. */
        int ana() {
            return ns.ctrlr().host().anaState(ns.nsid());
        }

        /** Whether I/O can go this way now: controller enabled, this thread's queue connected, ANA accessible. */
        boolean usable() {
            return channel.context().ready() != null && ns.ctrlr().state() == NvmeCtrlr.State.ENABLED
                    && AnaState.accessible(ana());
        }

        /** Commands on this path's queue now (for the queue_depth selector). */
        int depth() {
            HostQpair q = channel.context().ready();
            return q == null ? Integer.MAX_VALUE : q.inFlight() + q.pending();
        }

        void count(IoType t, long bytes) {
            switch (t) {
                case READ -> {
                    readOps++;
                    readBytes += bytes;
                }
                case WRITE -> {
                    writeOps++;
                    writeBytes += bytes;
                }
                default -> otherOps++;
            }
        }
    }

    private final NvmeBdev bdev;
    private final KeelThread thread;
    private final ArrayList<IoPath> paths = new ArrayList<>(2);
    private final IoChannel<NvmePollGroup> pollGroup;
    /** The path the last I/O took (active_passive keeps it while it is usable and optimized). */
    private IoPath current;
    private int rrCount;
    private BdevIo retryHead;
    private BdevIo retryTail;
    private int retryCount;
    private Poller retryPoller;
    private NativeArena dsmArena;
    private MemorySegment dsmRanges;
    private final int[] dsmFree = new int[DSM_SLOTS];
    private int dsmFreeCount;
    private final DsmRange range = new DsmRange();

    NvmeBdevChannel(NvmeBdev bdev, KeelThread thread) {
        this.bdev = bdev;
        this.thread = thread;
        this.pollGroup = thread.getIoChannel(bdev.nvmeModule().pollGroups());
        pollGroup.context().bdevChannels.add(this);
        for (NvmeNs ns : bdev.paths()) {
            addPath(ns);
        }
    }

    NvmeBdev bdev() {
        return bdev;
    }

    List<IoPath> paths() {
        return paths;
    }

    IoPath current() {
        return current;
    }

    void addPath(NvmeNs ns) {
        for (IoPath p : paths) {
            if (p.ns == ns) {
                return;
            }
        }
        IoChannel<NvmeCtrlrChannel> ch = thread.getIoChannel(ns.ctrlr().channels());
        if (ch != null) { // null: the path's controller is being deleted, and the path with it
            paths.add(new IoPath(ns, ch));
        }
    }

    void removePath(NvmeNs ns) {
        for (int i = 0; i < paths.size(); i++) {
            if (paths.get(i).ns == ns) {
                IoPath p = paths.remove(i);
                if (current == p) {
                    current = null;
                }
                p.channel.put();
                return;
            }
        }
    }

    /** The channel goes: the layer has seen every I/O complete, so nothing waits here. */
    void destroy() {
        for (IoPath p : paths) {
            p.channel.put();
        }
        paths.clear();
        current = null;
        pollGroup.context().bdevChannels.remove(this);
        pollGroup.put();
        if (retryPoller != null) {
            retryPoller.unregister();
            retryPoller = null;
        }
        if (dsmArena != null) {
            dsmArena.close();
        }
    }

    // ---- submission ----

    void submit(BdevIo io) {
        switch (io.type()) {
            case RESET -> {
                reset(io);
                return;
            }
            case FLUSH -> {
                if (!bdev.flushGoesToDevice()) {
                    io.complete(BdevIoStatus.SUCCESS);
                    return;
                }
            }
            default -> { }
        }
        io.moduleValue = 0;
        io.moduleContext = null;
        route(io, true);
    }

    /** Sends the I/O's next command on a usable path, or queues it, or fails it. */
    private void route(BdevIo io, boolean fromSubmit) {
        IoPath path = choose();
        if (path == null) {
            if (mayWait()) {
                queueRetry(io);
            } else {
                io.complete(BdevIoStatus.FAILED);
            }
            return;
        }
        HostQpair q = path.channel.context().ready();
        HostRequest r = q.allocate();
        if (r == null || !fill(io, r)) {
            if (r != null) {
                q.free(r);
            }
            if (fromSubmit) {
                io.complete(BdevIoStatus.NOMEM); // the layer re-drives it (R6)
            } else {
                queueRetry(io);
            }
            return;
        }
        path.count(io.type(), r.length());
        if (q.submit(r, DONE, io) != 0) {
            releaseDsm(io);
            queueRetry(io);
        }
    }

    /**
     * The path for the next command, by the bdev's policy: active_passive takes the first usable optimized path in
     * order, else the first usable one (with {@code disable_auto_failback} it keeps the current path while that is
     * usable and optimized, so a path that comes back does not take over again); active_active changes
     * path every {@code rr_min_io} commands (round_robin) or takes the least busy (queue_depth), preferring
     * optimized paths. Null when no path is usable.
     */
    private IoPath choose() {
        int n = paths.size();
        if (n == 1) {
            IoPath p = paths.get(0);
            return p.usable() ? (current = p) : null;
        }
        if (!bdev.activeActive()) {
            // with auto failback (SPDK's default) the first path in order that is optimized wins as soon as it is back
            if (bdev.nvmeModule().options().disableAutoFailback() && current != null && current.usable()
                    && current.ana() == AnaState.OPTIMIZED) {
                return current;
            }
            return current = best(0, false);
        }
        if (bdev.selector().equals("queue_depth")) {
            return current = best(0, true);
        }
        if (current != null && rrCount < bdev.rrMinIo() && current.usable()) {
            rrCount++;
            return current;
        }
        rrCount = 1;
        return current = best(current == null ? 0 : paths.indexOf(current) + 1, false);
    }

    /** From {@code start} round the list: the first usable optimized path, else the first usable (or least busy). */
    private IoPath best(int start, boolean leastBusy) {
        IoPath optimized = null;
        IoPath other = null;
        int n = paths.size();
        for (int i = 0; i < n; i++) {
            IoPath p = paths.get((start + i) % n);
            if (!p.usable()) {
                continue;
            }
            if (p.ana() == AnaState.OPTIMIZED) {
                if (optimized == null || leastBusy && p.depth() < optimized.depth()) {
                    optimized = p;
                }
                if (!leastBusy) {
                    break;
                }
            } else if (other == null || leastBusy && p.depth() < other.depth()) {
                other = p;
            }
        }
        return optimized != null ? optimized : other;
    }

    /** Whether a path may still come back for I/O waiting here. */
    private boolean mayWait() {
        if (bdev.removing()) {
            return false;
        }
        for (IoPath p : paths) {
            NvmeCtrlr c = p.ns.ctrlr();
            if (c.state() == NvmeCtrlr.State.ENABLED || c.ioMayWait()) {
                return true;
            }
        }
        return false;
    }

    /** Writes the I/O's next command into {@code r}; false when an unmap range slot is not free. */
    private boolean fill(BdevIo io, HostRequest r) {
        Sqe s = r.sqe();
        int nsid = bdev.nsid();
        long done = io.moduleValue & PROGRESS_MASK;
        long blocks = chunkBlocks(io, done);
        long slba = io.offsetBlocks() + done;
        switch (io.type()) {
            case READ, WRITE, COMPARE -> {
                int op = io.type() == IoType.READ ? Opcode.READ : io.type() == IoType.WRITE ? Opcode.WRITE : Opcode.COMPARE;
                s.opcode(op).nsid(nsid).rw().slba(slba).blockCount((int) blocks);
                r.toController(op != Opcode.READ);
                addSegments(io, r, done * bdev.blockSize(), blocks * bdev.blockSize());
            }
            case WRITE_ZEROES -> s.opcode(Opcode.WRITE_ZEROES).nsid(nsid).rw().slba(slba).blockCount((int) blocks);
            case FLUSH -> s.opcode(Opcode.FLUSH).nsid(nsid);
            case UNMAP -> {
                int slot = takeDsm();
                if (slot < 0) {
                    return false;
                }
                io.moduleContext = Integer.valueOf(slot); // small Integers are cached: no allocation
                MemorySegment seg = dsmRanges.asSlice((long) slot * DsmRange.SIZE, DsmRange.SIZE);
                range.wrap(seg, 0).contextAttributes(0).length(blocks).slba(slba);
                s.opcode(Opcode.DATASET_MANAGEMENT).nsid(nsid).dsm().rangeCount(1).attributes(false, false, true);
                r.toController(true).segment(dsmRanges, (long) slot * DsmRange.SIZE, DsmRange.SIZE);
            }
            default -> throw new IllegalStateException("unexpected I/O type " + io.type());
        }
        return true;
    }

    /** Blocks the next command of {@code io} covers, {@code done} blocks in. */
    private long chunkBlocks(BdevIo io, long done) {
        long left = io.numBlocks() - done;
        return switch (io.type()) {
            case READ, WRITE, COMPARE -> Math.min(left, bdev.maxTransferBlocks());
            case WRITE_ZEROES -> Math.min(left, MAX_WRITE_ZEROES_BLOCKS);
            case UNMAP -> Math.min(left, MAX_DSM_RANGE_BLOCKS);
            default -> left;
        };
    }

    /** Adds the bytes {@code [from, from + len)} of the I/O's buffers as the command's segments. */
    private static void addSegments(BdevIo io, HostRequest r, long from, long len) {
        for (int i = 0; i < io.iovCount() && len > 0; i++) {
            long l = io.iovLength(i);
            if (from >= l) {
                from -= l;
                continue;
            }
            long take = Math.min(l - from, len);
            r.segment(io.iov(i), io.iovOffset(i) + from, take);
            len -= take;
            from = 0;
        }
    }

    // ---- completion ----

    private static void commandDone(Object arg, int status, long result) {
        BdevIo io = (BdevIo) arg;
        NvmeBdevChannel ch = io.moduleChannel();
        ch.completed(io, status);
    }

    private void completed(BdevIo io, int status) {
        releaseDsm(io);
        if (status == 0) {
            long done = (io.moduleValue & PROGRESS_MASK) + chunkBlocks(io, io.moduleValue & PROGRESS_MASK);
            if (done >= io.numBlocks() || io.type() == IoType.FLUSH) {
                io.complete(BdevIoStatus.SUCCESS);
            } else {
                io.moduleValue = (io.moduleValue & ~PROGRESS_MASK) | done;
                route(io, false);
            }
            return;
        }
        int code = Status.codeOf(status);
        boolean dnr = HostStatus.dnr(status);
        if (code == Status.code(Status.SCT_GENERIC, Status.ABORTED_SQ_DELETION) && !dnr) {
            queueRetry(io); // its queue went away: not the command's fault, and reconnects are bounded by policy
            return;
        }
        int retries = (int) (io.moduleValue >>> RETRY_SHIFT);
        int limit = bdev.nvmeModule().options().bdevRetryCount();
        if (!dnr && (limit < 0 || retries < limit)) {
            io.moduleValue = (io.moduleValue & PROGRESS_MASK) | (long) (retries + 1) << RETRY_SHIFT;
            queueRetry(io);
            return;
        }
        io.completeNvme(Status.sct(code), Status.sc(code));
    }

    // ---- retry queue ----

    private void queueRetry(BdevIo io) {
        io.moduleNext = null;
        if (retryTail == null) {
            retryHead = io;
        } else {
            retryTail.moduleNext = io;
        }
        retryTail = io;
        retryCount++;
        if (retryPoller == null) {
            retryPoller = thread.registerPoller("nvme_bdev_retry", this::retryQueued, RETRY_PERIOD_MICROS);
        }
    }

    private int retryQueued() {
        BdevIo io = retryHead;
        int n = retryCount;
        retryHead = null;
        retryTail = null;
        retryCount = 0;
        for (int i = 0; i < n && io != null; i++) {
            BdevIo next = io.moduleNext;
            io.moduleNext = null;
            route(io, false);
            io = next;
        }
        if (retryHead == null && retryPoller != null) {
            retryPoller.unregister();
            retryPoller = null;
        }
        return n > 0 ? 1 : 0;
    }

    // ---- unmap ranges ----

    private int takeDsm() {
        if (dsmArena == null) {
            dsmArena = new NativeArena();
            dsmRanges = dsmArena.allocate((long) DSM_SLOTS * DsmRange.SIZE, 16);
            for (int i = 0; i < DSM_SLOTS; i++) {
                dsmFree[i] = i;
            }
            dsmFreeCount = DSM_SLOTS;
        }
        return dsmFreeCount == 0 ? -1 : dsmFree[--dsmFreeCount];
    }

    private void releaseDsm(BdevIo io) {
        if (io.moduleContext instanceof Integer slot) {
            dsmFree[dsmFreeCount++] = slot;
            io.moduleContext = null;
        }
    }

    // ---- reset ----

    private void reset(BdevIo io) {
        KeelThread me = thread;
        bdev.group().thread().send(() -> bdev.group().resetAll(err -> me.send(
                () -> io.complete(err == null ? BdevIoStatus.SUCCESS : BdevIoStatus.FAILED))));
    }
}
