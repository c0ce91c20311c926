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
 * The host's {@link RdmaDomain}s, one per device for the process, and the worker thread that opens them and does
 * every memory registration (blocking verbs calls: never on a reactor, rule R3). A qpair asks for its device's
 * domain while connecting and goes on when the answer comes back to its own thread as a message; its connect
 * timeout bounds the wait (rule R5). The answer needs only the protection domain: memory is registered after it, so
 * a connection never waits for the pinning of large ranges (seconds for iobuf's pools under a loaded TCG guest).
 */
final class RdmaDomains {
    /**
     * Work for the worker, smallest first (opening a domain is 0 bytes), in order of arrival among equals: a module's
     * buffers registered while iobuf's pools wait are registered before them.
     */
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
    private static final ConcurrentHashMap<Long, CompletableFuture<RdmaDomain>> DOMAINS = new ConcurrentHashMap<>();

    private RdmaDomains() {
    }

    /** Runs {@code task}, which registers or deregisters {@code bytes} of memory, on the worker. */
    static void execute(long bytes, Runnable task) {
        WORKER.execute(new Work(bytes, ORDER.getAndIncrement(), task));
    }

    /**
     * Hands the domain of {@code context} (opened on the worker the first time; a failed open is tried again by the
     * next caller) or the error to {@code done} on {@code thread}: at once when it is open, else by a message.
     */
    static void acquire(VerbsContext context, KeelThread thread, BiConsumer<RdmaDomain, Throwable> done) {
        long key = context.address();
        CompletableFuture<RdmaDomain> f = DOMAINS.computeIfAbsent(key, k -> open(context));
        RdmaDomain open = f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
        if (open != null) {
            done.accept(open, null);
            return;
        }
        f.whenComplete((d, error) -> {
            if (error != null) {
                DOMAINS.remove(key, f);
            }
            thread.send(() -> done.accept(d, error)); // refused only by a thread that is ending: nothing waits then
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
