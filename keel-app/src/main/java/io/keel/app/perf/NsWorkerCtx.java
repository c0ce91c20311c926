package io.keel.app.perf;

import io.keel.core.mem.DmaMemory;
import io.keel.core.mem.NativeArena;
import io.keel.core.time.Clock;
import io.keel.nvme.host.HostCompletion;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.HostStatus;
import io.keel.nvme.spec.Opcode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * One worker's load on one namespace (spdk_nvme_perf's {@code ns_worker_ctx}): an I/O queue pair of the
 * namespace's controller, owned by the worker's lightweight thread, kept at {@code -q} commands in flight from its
 * completion callback. The buffers (one I/O size per slot), the slots ({@link Task}, passed as the command's
 * argument), the callback (this object) and the latency histogram exist before the first I/O, and the qpair's
 * requests are pooled, so an I/O allocates nothing.
 *
 * <p>States: NEW → {@link #connect} → (queue CONNECTED) → {@link #start} → RUNNING → {@link #stop} (no new
 * commands; what is in flight drains) → {@link #finish} (disconnect, close, give the queue ID back) → FINISHED.
 * Everything runs on the worker's thread.
 */
final class NsWorkerCtx implements HostCompletion, HostQpair.Listener {
    /** Latencies above this are recorded as this (the histogram has a fixed range so it never resizes). */
    static final long MAX_LATENCY_NS = 60_000_000_000L;

    /** One command slot: its buffer, when it went, what it is. */
    static final class Task {
        final int slot;
        long submittedAt;
        boolean read;

        Task(int slot) {
            this.slot = slot;
        }
    }

    final PerfWorker worker;
    final Perf.Namespace ns;
    /** The name of this load in the report: the namespace and the worker's core. */
    final String name;
    private final PerfOptions o;
    private final Clock clock;
    private final int blocksPerIo;
    private final long ioSlots;
    private long nextSlot;
    private final SplittableRandom random;
    private final Task[] tasks;
    private NativeArena arena;
    /** The buffers in {@link DmaMemory}: an RDMA queue moves their data without copying. */
    private DmaMemory.Range dmaRange;
    private MemorySegment buffers;
    private HostQpair q;

    private boolean counting;
    private boolean stopping;
    private boolean finishing;
    private boolean finished;
    /** Commands submitted and not yet called back (the check's included). */
    private int outstanding;

    final Histogram latency = new Histogram(1, MAX_LATENCY_NS, 3);
    /** Completed without error while counting; volatile so the launching thread can sample it (one writer). */
    volatile long completed;
    long reads;
    long writes;
    long failed;
    int firstFailureStatus;

    /**
     * @param share   which of the loads on this namespace this is, of {@code shares}: sequential workloads start
     *                at their share of the namespace
     * @param ordinal which load of its worker this is (seeds the offsets apart)
     */
    NsWorkerCtx(PerfWorker worker, Perf.Namespace ns, PerfOptions o, int share, int shares, int ordinal) {
        this.worker = worker;
        this.ns = ns;
        this.o = o;
        this.name = ns.describe() + " from core " + worker.core;
        this.clock = worker.thread.runtime().clock();
        this.blocksPerIo = o.ioSize() / ns.data().blockSize();
        this.ioSlots = ns.data().blocks() / blocksPerIo;
        this.nextSlot = ioSlots * share / shares;
        this.random = new SplittableRandom(o.seed() + worker.core + 1_000_003L * ordinal);
        this.tasks = new Task[o.queueDepth()];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = new Task(i);
        }
    }

    /** Makes the buffers and the queue pair and starts connecting it; false (with the error told) when it cannot. */
    boolean connect(HostPollGroup group) {
        arena = new NativeArena();
        buffers = arena.map((long) o.queueDepth() * o.ioSize(), NativeArena.HUGE_PAGE, true); // as bdevperf's
        for (long i = 0; i + 8 <= buffers.byteSize(); i += 8) {
            buffers.set(ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L + worker.core);
        }
        dmaRange = DmaMemory.register(buffers);
        var data = ns.ctrlr().host().data();
        // room for a full queue of in-capsule writes, bounded; larger I/O simply waits for room
        int tx = (int) Math.min((long) o.queueDepth() * (Math.min(o.ioSize(), data.ioInCapsuleBytes()) + 256),
                8L << 20);
        q = ns.ctrlr().host().newIoQpair(group, o.queueDepth() + 1, o.queueDepth(), tx, this);
        if (q == null) {
            worker.ctxFailed(this, "no I/O queue to " + ns.ctrlr().describe() + " for core " + worker.core
                    + ": the controller is " + ns.ctrlr().host().state() + " or every granted queue is taken");
            return false;
        }
        q.connect(-1);
        return true;
    }

    @Override
    public void connected(HostQpair qpair) {
        worker.ctxConnected(this);
    }

    @Override
    public void lost(HostQpair qpair, String reason) {
        worker.ctxFailed(this, "I/O queue " + qpair.qid() + " to " + ns.ctrlr().describe() + " on core " + worker.core
                + " lost: " + reason);
    }

    HostQpair qpair() {
        return q;
    }

    /** Submits {@code -q} commands; from now on completions count and resubmit. */
    void start() {
        counting = true;
        for (Task t : tasks) {
            if (!submit(t)) {
                return;
            }
        }
    }

    private boolean submit(Task t) {
        HostRequest r = q.allocate();
        if (r == null) {
            return false; // the pool holds -q requests: only a check in flight can take one
        }
        int pct = o.readPercent();
        boolean read = pct == 100 || (pct > 0 && random.nextInt(100) < pct);
        long slba = nextSlot() * blocksPerIo;
        r.sqe().opcode(read ? Opcode.READ : Opcode.WRITE).nsid(ns.data().nsid()).rw().slba(slba)
                .blockCount(blocksPerIo);
        r.toController(!read).segment(buffers, (long) t.slot * o.ioSize(), o.ioSize());
        t.read = read;
        t.submittedAt = clock.nanoTime();
        if (q.submit(r, this, t) != 0) {
            return false; // the queue is not connected (its loss is told to the listener)
        }
        outstanding++;
        return true;
    }

    private long nextSlot() {
        if (o.workload().random()) {
            return random.nextLong(ioSlots);
        }
        long s = nextSlot;
        nextSlot = s + 1 == ioSlots ? 0 : s + 1;
        return s;
    }

    @Override
    public void complete(Object arg, int status, long result) {
        Task t = (Task) arg;
        outstanding--;
        if (counting) {
            if (status != 0) {
                if (failed++ == 0) {
                    firstFailureStatus = status;
                }
            } else {
                long latencyNs = clock.nanoTime() - t.submittedAt;
                latency.recordValue(Math.min(Math.max(latencyNs, 1), MAX_LATENCY_NS));
                if (t.read) {
                    reads++;
                } else {
                    writes++;
                }
                completed++;
            }
        }
        if (stopping) {
            if (outstanding == 0) {
                finish();
            }
            return;
        }
        if (status != HostStatus.ABORTED_SQ_DELETION) {
            submit(t);
        }
    }

    /** {@code --check}: writes a pattern, reads it back, compares; {@code done} hears null or what went wrong. */
    void check(java.util.function.Consumer<String> done) {
        outstanding++;
        WriteReadCheck.start(q, ns.data(), o, rc -> {
            outstanding--;
            done.accept(rc);
            if (stopping && outstanding == 0) {
                finish();
            }
        });
    }

    /** Stops submitting; once nothing is outstanding, finishes. Idempotent. */
    void stop() {
        if (stopping) {
            return;
        }
        stopping = true;
        counting = false;
        if (q == null) {
            finished = true;
            worker.ctxFinished(this);
        } else if (outstanding == 0) {
            finish();
        }
    }

    /** The drain bound passed: finishes anyway (the disconnect ends what is outstanding as aborted). */
    void forceFinish() {
        if (!finishing && !finished) {
            worker.error(outstanding + " I/O to " + ns.describe() + " still outstanding on core " + worker.core
                    + " " + PerfWorker.DRAIN_MS / 1000 + " s after the run ended");
            finish();
        }
    }

    /** Disconnects and closes the queue and gives its ID back; then the worker hears it. */
    private void finish() {
        if (finishing) {
            return;
        }
        finishing = true;
        q.disconnect("perf run over", () -> {
            q.close();
            ns.ctrlr().host().releaseQid(q.qid());
            finished = true;
            worker.ctxFinished(this);
        });
    }

    boolean finished() {
        return finished;
    }

    /** Frees the buffers once the queue is closed (nothing can write into them any more). */
    void freeBuffers() {
        if ((q == null || q.closed()) && arena != null) {
            DmaMemory.unregister(dmaRange);
            arena.close();
            arena = null;
        }
    }
}
