package io.keel.nvme.host.rdma;

import io.keel.core.thread.KeelThread;
import io.keel.rdma.VerbsContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The host's {@link RdmaDomain}s, one per device while any qpair holds it, and the worker thread that opens and closes
 * them and does every memory registration (blocking verbs calls: never on a reactor, rule R3). A qpair asks for its
 * device's domain while connecting and goes on when the answer comes back to its own thread as a message; its connect
 * timeout bounds the wait (rule R5). The answer needs only the protection domain: memory is registered after it, so
 * a connection never waits for the pinning of large ranges (seconds for iobuf's pools under a loaded TCG guest).
 * Every {@link #acquire} is matched by one {@link #release}; the last release closes the domain.
 */
final class RdmaDomains {
    private record Work(long bytes, long order, Runnable task) implements Runnable, Comparable<Work> {
        @Override
        public void run() {
            task.run();
        }

        @Override
        public int compareTo(Work o) {
            int c = Long.compare(bytes, o.bytes);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    private static final AtomicLong ORDER = new AtomicLong();
    private static final ExecutorService WORKER = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new PriorityBlockingQueue<>(), r -> Thread.ofPlatform().name("nvme_rdma_mr").daemon().unstarted(r));
    /** Closing a domain runs after everything queued before it (its qpairs' own deregistrations among them). */
    private static final long LAST = Long.MAX_VALUE;

    /** A device's domain being opened or open, and how many acquires it has not seen released. */
    private static final class Held {
        CompletableFuture<RdmaDomain> domain;
        int users;
    }

    private static final ConcurrentHashMap<Long, Held> DOMAINS = new ConcurrentHashMap<>();

    private RdmaDomains() {
    }

    /** Runs {@code task}, which registers or deregisters {@code bytes} of memory, on the worker. */
    static void execute(long bytes, Runnable task) {
        WORKER.execute(new Work(bytes, ORDER.getAndIncrement(), task));
    }

    /**
     * Takes a hold of the domain of {@code context} (opened on the worker the first time; after a failed open the
     * next caller tries again) and hands it or the error to {@code done} on {@code thread}: at once when it is open,
     * else by a message. Whatever the answer, the caller gives the hold back with {@link #release}; a thread that
     * ended before the answer came has it given back here.
     */
    static void acquire(VerbsContext context, KeelThread thread, BiConsumer<RdmaDomain, Throwable> done) {
        long key = context.address();
        Held h = DOMAINS.compute(key, (k, held) -> {
            Held n = held != null ? held : new Held();
            if (n.domain == null || n.domain.isCompletedExceptionally()) {
                n.domain = open(context);
            }
            n.users++;
            return n;
        });
        CompletableFuture<RdmaDomain> f = h.domain;
        RdmaDomain open = f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
        if (open != null) {
            done.accept(open, null);
            return;
        }
        f.whenComplete((d, error) -> {
            if (!thread.send(() -> done.accept(d, error))) {
                release(context); // the thread ended meanwhile: nobody holds it now
            }
        });
    }

    /** One more hold of the domain of {@code context}, taken by one who holds one already (for work on its behalf). */
    static void retain(VerbsContext context) {
        Held h = DOMAINS.computeIfPresent(context.address(), (k, held) -> {
            held.users++;
            return held;
        });
        if (h == null) {
            throw new IllegalStateException("no hold of " + context.deviceName() + "'s domain to add to");
        }
    }

    /**
     * Gives back a hold {@link #acquire} or {@link #retain} took; the last one closes the domain on the worker, after
     * everything queued there.
     */
    static void release(VerbsContext context) {
        DOMAINS.computeIfPresent(context.address(), (k, held) -> {
            if (--held.users > 0) {
                return held;
            }
            held.domain.thenAccept(d -> execute(LAST, d::close)); // a failed open left nothing to close
            return null;
        });
    }

    private static CompletableFuture<RdmaDomain> open(VerbsContext context) {
        CompletableFuture<RdmaDomain> f = new CompletableFuture<>();
        execute(0, () -> {
            try {
                f.complete(RdmaDomain.open(context));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }
}
