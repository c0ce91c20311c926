package io.keel.bench;

import io.keel.core.reactor.Reactor;
import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reactor micro-benchmarks, run as a plain program (no JMH: what is measured is whole reactors on OS threads,
 * over wall-clock windows, which JMH's per-invocation model does not fit):
 *
 * <ol>
 *   <li>(a) message throughput from a lightweight thread on reactor 0 to one on reactor 1, with credit-based
 *       flow control so the ring never overflows, against a JDK baseline (an {@link ArrayBlockingQueue} between
 *       two spinning OS threads, same window and credit protocol);</li>
 *   <li>(b) one reactor's loop rate with one idle thread: with no poller, and with one active poller that
 *       always finds nothing, plus the reactor OS thread's CPU use;</li>
 *   <li>(c) bytes allocated on the reactor OS threads per message (a) and per iteration (b) in steady state.</li>
 * </ol>
 *
 * Poll mode and interrupt mode are measured alternately, round after round, and medians reported: the VM this
 * runs on is shared and noisy. Options: {@code --seconds=S} (measured window per case, default 2),
 * {@code --warmup=S} (default 0.5), {@code --rounds=N} (default 3), {@code --pin} (pin reactors to cores).
 */
public final class ReactorBench {
    private static final int RING = ReactorOptions.DEFAULT_RING_CAPACITY;
    private static final int WINDOW = 1024; // messages in flight at most: well under the ring's 4096
    private static final int CREDIT_BATCH = 128;
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final double seconds;
    private final double warmup;
    private final int rounds;
    private final boolean pin;
    private final Map<String, List<Double>> results = new LinkedHashMap<>();

    private ReactorBench(double seconds, double warmup, int rounds, boolean pin) {
        this.seconds = seconds;
        this.warmup = warmup;
        this.rounds = rounds;
        this.pin = pin;
    }

    public static void main(String[] args) throws Exception {
        double seconds = 2;
        double warmup = 0.5;
        int rounds = 3;
        boolean pin = false;
        for (String a : args) {
            if (a.startsWith("--seconds=")) {
                seconds = Double.parseDouble(a.substring(10));
            } else if (a.startsWith("--warmup=")) {
                warmup = Double.parseDouble(a.substring(9));
            } else if (a.startsWith("--rounds=")) {
                rounds = Integer.parseInt(a.substring(9));
            } else if (a.equals("--pin")) {
                pin = true;
            } else {
                System.err.println("usage: ReactorBench [--seconds=2] [--warmup=0.5] [--rounds=3] [--pin]");
                System.exit(2);
            }
        }
        if (!MX.isThreadAllocatedMemorySupported() || !MX.isThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure per-thread allocation and CPU time");
        }
        MX.setThreadAllocatedMemoryEnabled(true);
        new ReactorBench(seconds, warmup, rounds, pin).run();
    }

    private void run() throws Exception {
        System.out.printf(Locale.ROOT, "Keel ReactorBench: JDK %s, %d CPUs, %.1f s measured per case after %.1f s warm-up, "
                        + "%d rounds, reactors %s, ring %d, window %d, credit batch %d%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), seconds, warmup, rounds,
                pin ? "pinned" : "not pinned", RING, WINDOW, CREDIT_BATCH);
        for (int round = 1; round <= rounds; round++) {
            System.out.printf(Locale.ROOT, "round %d:%n", round);
            for (boolean interrupt : new boolean[] {false, true}) {
                String mode = interrupt ? "interrupt" : "poll";
                Throughput t = messageThroughput(interrupt);
                record("(a) messages/s, thread on reactor_0 -> thread on reactor_1, " + mode + " mode", t.perSecond());
                record("(c) bytes allocated on reactor threads per message, " + mode + " mode", t.bytesPerMessage());
                Loop idle = emptyLoop(interrupt, IdleLoad.NOTHING);
                record("(b) iterations/s, one idle thread without pollers, " + mode + " mode", idle.perSecond());
                record("(b) reactor CPU %, one idle thread without pollers, " + mode + " mode", idle.cpuPercent());
                record("(c) bytes allocated on the reactor per second, idle thread, " + mode + " mode", idle.bytesPerSecond());
                Loop polled = emptyLoop(interrupt, IdleLoad.POLLER);
                record("(b) iterations/s, one thread with one idle active poller, " + mode + " mode", polled.perSecond());
                record("(c) bytes allocated on the reactor per iteration, idle poller, " + mode + " mode",
                        polled.bytesPerIteration());
                Loop watched = emptyLoop(interrupt, IdleLoad.POLLER_AND_FD);
                record("(b) iterations/s, idle active poller + one quiet watched fd, " + mode + " mode",
                        watched.perSecond());
                record("(c) bytes allocated on the reactor per iteration, poller + fd, " + mode + " mode",
                        watched.bytesPerIteration());
                Loop raw = emptyLoop(interrupt, IdleLoad.POLLER_AND_RAW_FD);
                record("(b) iterations/s, idle active poller + one quiet raw fd (eventfd), " + mode + " mode",
                        raw.perSecond());
                record("(c) bytes allocated on the reactor per iteration, poller + raw fd, " + mode + " mode",
                        raw.bytesPerIteration());
            }
            record("(a) baseline: messages/s, ArrayBlockingQueue between two spinning OS threads", baselineThroughput());
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-92s %14s %14s %14s%n", "metric (over " + rounds + " rounds)", "median", "min", "max");
        results.forEach((name, values) -> {
            double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "%-92s %14s %14s %14s%n", name, fmt(v[v.length / 2]), fmt(v[0]), fmt(v[v.length - 1]));
        });
    }

    private void record(String metric, double value) {
        results.computeIfAbsent(metric, k -> new ArrayList<>()).add(value);
        System.out.printf(Locale.ROOT, "  %-92s %14s%n", metric, fmt(value));
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private ReactorOptions options(CpuMask cores, boolean interrupt) {
        return ReactorOptions.defaults(cores, interrupt).withPin(pin);
    }

    private void sleepSeconds(double s) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep((long) (s * 1e9));
    }

    // ---- (a) throughput with credit-based flow control ----

    private record Throughput(double perSecond, double bytesPerMessage) {
    }

    /** The receiving side; its fields are touched on the receiver thread only, except {@code published}. */
    private static final class Receiver {
        KeelThread senderThread;
        Sender sender;
        long received;
        int sinceCredit;
        volatile long published; // written once per credit batch, read by the measuring thread
    }

    /** The sending side; its fields are touched on the sender thread only, except {@code stop}. */
    private static final class Sender {
        KeelThread receiverThread;
        Receiver receiver;
        volatile boolean stop;
    }

    // Non-capturing functions with an explicit argument: sending allocates nothing.
    private static final MessageFn<Receiver> DELIVER = ReactorBench::onDeliver;
    private static final MessageFn<Sender> CREDIT = ReactorBench::onCredit;
    private static final MessageFn<Sender> START = s -> sendBatch(s, WINDOW);

    private static void onDeliver(Receiver r) {
        r.received++;
        if (++r.sinceCredit == CREDIT_BATCH) {
            r.sinceCredit = 0;
            r.published = r.received;
            r.senderThread.send(CREDIT, r.sender);
        }
    }

    private static void onCredit(Sender s) {
        if (!s.stop) {
            sendBatch(s, CREDIT_BATCH);
        }
    }

    private static void sendBatch(Sender s, int n) {
        for (int i = 0; i < n; i++) {
            s.receiverThread.send(DELIVER, s.receiver);
        }
    }

    private Throughput messageThroughput(boolean interrupt) throws Exception {
        try (ReactorRuntime rt = ReactorRuntime.start(options(CpuMask.of(0, 1), interrupt))) {
            KeelThread a = rt.createThread("bench_sender", CpuMask.of(0));
            KeelThread b = rt.createThread("bench_receiver", CpuMask.of(1));
            Sender sender = new Sender();
            Receiver receiver = new Receiver();
            sender.receiverThread = b;
            sender.receiver = receiver;
            receiver.senderThread = a;
            receiver.sender = sender;
            a.send(START, sender);
            sleepSeconds(warmup);

            long[] ids = reactorThreadIds(rt);
            long alloc0 = allocated(ids);
            long count0 = receiver.published;
            long t0 = System.nanoTime();
            sleepSeconds(seconds);
            long count1 = receiver.published;
            long t1 = System.nanoTime();
            long alloc1 = allocated(ids);
            sender.stop = true;
            settle(a, b);

            long messages = count1 - count0;
            return new Throughput(messages * 1e9 / (t1 - t0), messages == 0 ? Double.NaN : (double) (alloc1 - alloc0) / messages);
        }
    }

    /** Lets the last credits drain before the runtime closes, so no thread is torn down mid-message. */
    private static void settle(KeelThread... threads) throws Exception {
        for (KeelThread t : threads) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            t.send(() -> f.complete(null));
            f.get(5, TimeUnit.SECONDS);
        }
    }

    // ---- (b) empty loop ----

    private record Loop(double perSecond, double cpuPercent, double bytesPerSecond, double bytesPerIteration) {
    }

    /**
     * What the idle thread has: nothing, an active poller that finds nothing, or that plus a quiet watched fd (a NIO
     * channel, or a raw eventfd as vhost's kick).
     */
    private enum IdleLoad { NOTHING, POLLER, POLLER_AND_FD, POLLER_AND_RAW_FD }

    private Loop emptyLoop(boolean interrupt, IdleLoad load) throws Exception {
        try (QuietEventFd kick = new QuietEventFd();
                ReactorRuntime rt = ReactorRuntime.start(options(CpuMask.of(0), interrupt));
                java.nio.channels.Pipe.SourceChannel quiet = java.nio.channels.Pipe.open().source()) {
            quiet.configureBlocking(false);
            KeelThread t = rt.createThread("bench_idle");
            if (load != IdleLoad.NOTHING) {
                t.send(() -> KeelThread.current().registerPoller("finds_nothing", () -> PollerFn.IDLE));
            }
            if (load == IdleLoad.POLLER_AND_FD) { // like the RPC server's listening socket on app_thread
                t.send(() -> KeelThread.current().watch(quiet, java.nio.channels.SelectionKey.OP_READ, ops -> 1));
            }
            if (load == IdleLoad.POLLER_AND_RAW_FD) { // like a vhost queue's kick eventfd
                t.send(() -> KeelThread.current().watchFd(kick.fd, Epoll.EPOLLIN, ops -> 1));
            }
            settle(t);
            sleepSeconds(warmup);
            Reactor reactor = rt.reactors().getFirst();
            long[] ids = reactorThreadIds(rt);

            long it0 = reactor.iterations();
            long cpu0 = MX.getThreadCpuTime(ids[0]);
            long alloc0 = allocated(ids);
            long t0 = System.nanoTime();
            sleepSeconds(seconds);
            long it1 = reactor.iterations();
            long cpu1 = MX.getThreadCpuTime(ids[0]);
            long alloc1 = allocated(ids);
            long t1 = System.nanoTime();

            double elapsed = t1 - t0;
            long iterations = it1 - it0;
            return new Loop(iterations * 1e9 / elapsed, 100.0 * (cpu1 - cpu0) / elapsed,
                    (alloc1 - alloc0) * 1e9 / elapsed, iterations == 0 ? Double.NaN : (double) (alloc1 - alloc0) / iterations);
        }
    }

    /** An eventfd nobody signals, closed after the reactor that watched it. */
    private static final class QuietEventFd implements AutoCloseable {
        final int fd;

        QuietEventFd() {
            try (Arena arena = Arena.ofConfined()) {
                fd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, Libc.callState(arena));
            }
        }

        @Override
        public void close() {
            Libc.closeQuietly(fd);
        }
    }

    // ---- baseline ----

    private static final Object TOKEN = new Object();

    private double baselineThroughput() throws Exception {
        ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(RING);
        final class Shared {
            volatile long published;
            volatile boolean stop;
        }
        Shared shared = new Shared();
        Thread consumer = Thread.ofPlatform().name("baseline_consumer").start(() -> {
            long received = 0;
            while (!shared.stop) {
                if (queue.poll() != null) {
                    if (++received % CREDIT_BATCH == 0) {
                        shared.published = received;
                    }
                } else {
                    Thread.onSpinWait();
                }
            }
        });
        Thread producer = Thread.ofPlatform().name("baseline_producer").start(() -> {
            long sent = 0;
            while (!shared.stop) {
                if (sent - shared.published < WINDOW) {
                    queue.offer(TOKEN);
                    sent++;
                } else {
                    Thread.onSpinWait();
                }
            }
        });
        sleepSeconds(warmup);
        long c0 = shared.published;
        long t0 = System.nanoTime();
        sleepSeconds(seconds);
        long c1 = shared.published;
        long t1 = System.nanoTime();
        shared.stop = true;
        producer.join();
        consumer.join();
        return (c1 - c0) * 1e9 / (t1 - t0);
    }

    // ---- measuring reactor OS threads ----

    /** The reactor OS threads of {@code rt}, found by name ("reactor_N"), in core order. */
    private static long[] reactorThreadIds(ReactorRuntime rt) {
        int[] cores = rt.cores().cores();
        long[] ids = new long[cores.length];
        for (int i = 0; i < cores.length; i++) {
            String name = "reactor_" + cores[i];
            ids[i] = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().equals(name))
                    .mapToLong(Thread::threadId)
                    .max() // the newest, should an earlier runtime's thread still be finishing
                    .orElseThrow(() -> new IllegalStateException("no live OS thread named " + name));
        }
        return ids;
    }

    private static long allocated(long[] ids) {
        return Arrays.stream(MX.getThreadAllocatedBytes(ids)).sum();
    }
}
