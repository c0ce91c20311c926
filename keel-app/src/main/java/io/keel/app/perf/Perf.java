package io.keel.app.perf;

import io.keel.nvme.host.HostOptions;
import io.keel.nvme.host.Namespace;
import io.keel.nvme.host.TcpController;
import io.keel.nvme.host.TcpQpair;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code keel perf}: brings the controller up on this thread (which then owns the admin queue and sends
 * keep-alives), connects one I/O queue per core, hands each to a {@link PerfWorker} on its own thread, lets
 * them run for {@code -t} seconds and collects the figures. Allocation on the worker threads is measured from
 * the end of a warm-up (30% of the run, at most 2 s) to the end.
 */
final class Perf {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final PerfOptions o;
    private final PrintWriter out;
    private volatile boolean interrupted;

    Perf(PerfOptions o, PrintWriter out) {
        this.o = o;
        this.out = out;
    }

    /** Ends the run early (a signal); the figures cover the time run so far. */
    void stop() {
        interrupted = true;
    }

    PerfResult run() throws IOException, InterruptedException {
        HostOptions host = HostOptions.defaults().withDigests(o.headerDigest(), o.dataDigest())
                .withKeepAliveMs(o.keepAliveMs()).withTimeout(TIMEOUT);
        if (o.hostNqn() != null) {
            host = new HostOptions(o.hostNqn(), host.hostId(), host.keepAliveMs(), host.headerDigest(),
                    host.dataDigest(), host.timeout());
        }
        String device = "TCP (addr:" + o.trid().traddr() + " subnqn:" + o.trid().subnqn() + ") NSID " + o.nsid();
        out.println("Initializing NVMe Controllers");
        out.flush();
        try (TcpController ctrl = TcpController.connect(o.trid(), host)) {
            out.printf("Attached to NVMe over Fabrics controller at %s:%d: %s (cntlid %d)%n", o.trid().traddr(),
                    o.trid().trsvcid(), o.trid().subnqn(), ctrl.cntlid());
            Namespace ns = ctrl.identifyNamespace(o.nsid());
            validate(ctrl, ns);
            int granted = ctrl.setNumberOfQueues(o.cores().length);
            if (granted < o.cores().length) {
                throw new IOException("controller granted " + granted + " I/O queues, " + o.cores().length + " needed");
            }
            List<PerfWorker> workers = connectWorkers(ctrl, ns, device);
            out.println("Initialization complete. Launching workers.");
            out.flush();
            return measure(ctrl, workers, device);
        }
    }

    private void validate(TcpController ctrl, Namespace ns) throws IOException {
        if (o.ioSize() % ns.blockSize() != 0) {
            throw new IOException("I/O size " + o.ioSize() + " is not a multiple of the block size " + ns.blockSize());
        }
        if (o.ioSize() / ns.blockSize() > 0x10000 || ns.blocks() < o.ioSize() / ns.blockSize()) {
            throw new IOException("I/O size " + o.ioSize() + " does not fit the namespace or one command");
        }
        if (ctrl.maxTransferBytes() != 0 && o.ioSize() > ctrl.maxTransferBytes()) {
            throw new IOException("I/O size " + o.ioSize() + " exceeds the controller's MDTS ("
                    + ctrl.maxTransferBytes() + " bytes)");
        }
        if (o.queueDepth() > ctrl.maxQueueEntries()) {
            throw new IOException("queue depth " + o.queueDepth() + " exceeds the controller's queue size (MQES "
                    + (ctrl.maxQueueEntries() - 1) + ", 0's based)");
        }
    }

    private List<PerfWorker> connectWorkers(TcpController ctrl, Namespace ns, String device) throws IOException {
        // room for a full queue of in-capsule writes, bounded; larger I/O simply waits for room
        int tx = (int) Math.min((long) o.queueDepth() * (Math.min(o.ioSize(), ctrl.ioInCapsuleBytes()) + 256),
                8L << 20);
        List<PerfWorker> workers = new ArrayList<>();
        for (int i = 0; i < o.cores().length; i++) {
            TcpQpair q = ctrl.connectIoQueue(i + 1, o.queueDepth(), tx);
            if (o.check() && i == 0) {
                out.println("Check: " + WriteReadCheck.run(q, ns, o, TIMEOUT));
            }
            workers.add(new PerfWorker(o.cores()[i], i, o.cores().length, q, ns, o));
            out.printf("Associating %s with lcore %d%n", device, o.cores()[i]);
        }
        return workers;
    }

    private PerfResult measure(TcpController ctrl, List<PerfWorker> workers, String device)
            throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (PerfWorker w : workers) {
            Thread t = new Thread(w, "perf_core_" + w.core);
            threads.add(t);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        long[] ids = threads.stream().mapToLong(Thread::threadId).toArray();
        List<String> errors = new ArrayList<>();
        long start = System.nanoTime();
        threads.forEach(Thread::start);
        long runNs = (long) (o.seconds() * 1e9);
        long warmNs = Math.min((long) (runNs * 0.3), 2_000_000_000L);
        long kaEveryNs = o.keepAliveMs() > 0 ? o.keepAliveMs() * 1_000_000L / 2 : Long.MAX_VALUE;
        long nextKa = start + kaEveryNs;
        long bytes0 = -1;
        long ios0 = 0;
        double from = 0;
        while (!interrupted && System.nanoTime() - start < runNs && workers.stream().allMatch(w -> w.error == null)) {
            long now = System.nanoTime();
            if (bytes0 < 0 && now - start >= warmNs) {
                ios0 = completed(workers);
                bytes0 = allocated(mx, ids);
                from = (now - start) / 1e9;
            }
            if (now - nextKa >= 0) {
                try {
                    ctrl.keepAlive();
                } catch (IOException e) {
                    errors.add("keep-alive: " + e.getMessage());
                    break;
                }
                nextKa = now + kaEveryNs;
            }
            Thread.sleep(10);
        }
        PerfResult.Allocation alloc = null;
        if (bytes0 >= 0) {
            long bytes = allocated(mx, ids) - bytes0;
            long ios = completed(workers) - ios0;
            alloc = new PerfResult.Allocation(bytes, ios, from, (System.nanoTime() - start) / 1e9,
                    threads.stream().map(Thread::getName).toList());
        }
        workers.forEach(PerfWorker::stop);
        for (Thread t : threads) {
            t.join(10_000);
        }
        List<PerfResult.Line> lines = new ArrayList<>();
        for (PerfWorker w : workers) {
            if (w.error != null) {
                errors.add("core " + w.core + ": " + w.error.getMessage());
            }
            if (w.failed > 0) {
                errors.add("core " + w.core + ": " + w.failed + " I/O failed, the first with "
                        + TcpController.describe(w.firstFailureStatus));
            }
            lines.add(new PerfResult.Line(device + " from core " + w.core, w.elapsedNs / 1e9, w.completed, w.reads,
                    w.writes, w.failed, o.ioSize(), w.latency));
        }
        return new PerfResult(device, lines, alloc, errors);
    }

    private static long completed(List<PerfWorker> workers) {
        long n = 0;
        for (PerfWorker w : workers) {
            n += w.completed;
        }
        return n;
    }

    private static long allocated(com.sun.management.ThreadMXBean mx, long[] ids) {
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(ids)) {
            sum += Math.max(b, 0);
        }
        return sum;
    }
}
