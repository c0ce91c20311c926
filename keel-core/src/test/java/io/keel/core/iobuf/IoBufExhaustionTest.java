package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import io.keel.core.thread.ThreadRuntime;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Scenario S3 (I/O hang on resource exhaustion) for data buffers: tiny pools (4 small, 2 large buffers),
 * three threads with bdev-sized caches each issuing 1000 requests, 8 in flight, mixed sizes; every buffer is
 * completed (freed) on a random thread, often not the one that got it. Every request completes, waiters are
 * served in FIFO order per thread and size, and at the end every buffer is back in its pool. Runs under the
 * seeded simulation (many interleavings, simulated time) and on real reactors.
 */
class IoBufExhaustionTest {
    private static final int THREADS = 3;
    private static final int REQUESTS_PER_THREAD = 1000;
    private static final int DEPTH = 8;

    @Test
    void everyRequestCompletesUnderSimulationWithManySeeds() {
        SimulationSeeds.explore("iobuf tiny pools, 3 threads", 8, seed -> {
            SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1));
            Workload w = new Workload(sim, seed);
            w.open();
            sim.runUntil(() -> w.opened.get() == THREADS, 100_000);
            w.start();
            sim.runUntil(() -> w.completed.get() == THREADS * REQUESTS_PER_THREAD, 5_000_000);
            w.closeAll();
            sim.runUntil(w::allClosed, 100_000);
            w.check();
        });
    }

    @Test
    void everyRequestCompletesOnRealReactors() {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            Workload w = new Workload(rt, 42);
            w.open();
            OnThread.await(w.allOpened);
            w.start();
            OnThread.await(w.allDone);
            w.closeAll();
            OnThread.await(w.allClosedFuture);
            w.check();
        }
    }

    /** The requests of all threads; each thread's state is touched only on that thread. */
    private static final class Workload {
        final IoBuf iobuf = IoBuf.create(new IoBufOptions(4, 2, 4096, 16384, false), 50);
        final List<Worker> workers = new ArrayList<>();
        final AtomicInteger opened = new AtomicInteger();
        final CompletableFuture<Void> allOpened = new CompletableFuture<>();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final CompletableFuture<Void> allDone = new CompletableFuture<>();
        final CompletableFuture<Void> allClosedFuture = new CompletableFuture<>();
        final List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();

        Workload(ThreadRuntime rt, long seed) {
            for (int i = 0; i < THREADS; i++) {
                workers.add(new Worker(this, rt.createThread("io" + i, CpuMask.of(i % 2)), seed * 31 + i));
            }
        }

        void open() {
            workers.forEach(w -> w.thread.send(x -> {
                x.ch = iobuf.channel("bdev", 128, 16);
                if (opened.incrementAndGet() == THREADS) {
                    allOpened.complete(null);
                }
            }, w));
        }

        void start() {
            workers.forEach(w -> w.thread.send(Worker::start, w));
        }

        void completedOne() {
            if (completed.incrementAndGet() == THREADS * REQUESTS_PER_THREAD) {
                allDone.complete(null);
            }
        }

        void closeAll() {
            workers.forEach(w -> w.thread.send(x -> {
                x.ch.close();
                if (closed.incrementAndGet() == THREADS) {
                    allClosedFuture.complete(null);
                }
            }, w));
        }

        boolean allClosed() {
            return closed.get() == THREADS;
        }

        void check() {
            assertThat(problems).isEmpty();
            assertThat(completed.get()).isEqualTo(THREADS * REQUESTS_PER_THREAD);
            assertThat(iobuf.smallPoolAvailable()).as("every small buffer back").isEqualTo(4);
            assertThat(iobuf.largePoolAvailable()).as("every large buffer back").isEqualTo(2);
            long retries = workers.stream().mapToLong(w -> w.retries).sum();
            assertThat(retries).as("the pools really ran dry").isPositive();
        }
    }

    /** One thread's requests: DEPTH request slots, each with its own reusable waiter. */
    private static final class Worker {
        final Workload load;
        final KeelThread thread;
        final SplittableRandom random;
        IoBufChannel ch;
        int issued;
        long retries;
        /** Queue order and serve order, per size class, to check FIFO. */
        final long[] nextQueued = new long[2];
        final long[] nextServed = new long[2];

        Worker(Workload load, KeelThread thread, long seed) {
            this.load = load;
            this.thread = thread;
            this.random = new SplittableRandom(seed);
        }

        static void start(Worker w) {
            for (int i = 0; i < DEPTH; i++) {
                w.issue(new Request(w));
            }
        }

        void issue(Request r) {
            if (issued == REQUESTS_PER_THREAD) {
                return;
            }
            issued++;
            r.length = random.nextInt(10) < 7 ? 1 + random.nextInt(4096) : 4097 + random.nextInt(16384 - 4096);
            MemorySegment buf = ch.get(r.length, r);
            if (buf != null) {
                r.gotBuffer(buf);
            } else {
                retries++;
                r.ticket = nextQueued[r.sizeClass()]++;
            }
        }
    }

    private static final class Request extends IoBufWaiter {
        final Worker owner;
        long length;
        long ticket = -1;
        MemorySegment buf;

        Request(Worker owner) {
            this.owner = owner;
        }

        int sizeClass() {
            return length <= 4096 ? 0 : 1;
        }

        @Override
        public void bufferReady(MemorySegment b) {
            if (KeelThread.current() != owner.thread) {
                owner.load.problems.add("waiter served on " + KeelThread.current() + ", not " + owner.thread);
            }
            long expected = owner.nextServed[sizeClass()]++;
            if (ticket != expected) {
                owner.load.problems.add(owner.thread.name() + ": waiter " + ticket + " served when " + expected + " was due");
            }
            ticket = -1;
            gotBuffer(b);
        }

        void gotBuffer(MemorySegment b) {
            if (b.byteSize() < length) {
                owner.load.problems.add("buffer of " + b.byteSize() + " bytes for " + length);
            }
            b.set(ValueLayout.JAVA_LONG, 0, owner.thread.id());
            buf = b;
            // "complete the I/O" on a random thread, which frees the buffer there
            Worker completer = owner.load.workers.get(owner.random.nextInt(THREADS));
            completer.thread.send(Request::completeOn, new Object[] {this, completer});
        }

        static void completeOn(Object[] args) {
            Request r = (Request) args[0];
            Worker here = (Worker) args[1];
            if (r.buf.get(ValueLayout.JAVA_LONG, 0) != r.owner.thread.id()) {
                r.owner.load.problems.add("buffer overwritten while held");
            }
            MemorySegment b = r.buf;
            r.buf = null;
            here.ch.put(b);
            r.owner.load.completedOne();
            r.owner.thread.send(x -> x.owner.issue(x), r);
        }
    }
}
