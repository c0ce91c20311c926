package io.keel.nvme.host.rdma;

import io.keel.core.thread.KeelThread;
import io.keel.rdma.VerbsContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * The host's {@link RdmaDomain}s, one per device for the process, and the worker thread that opens them and does
 * every memory registration (blocking verbs calls: never on a reactor, rule R3). A qpair asks for its device's
 * domain while connecting and goes on when the answer comes back to its own thread as a message; its connect
 * timeout bounds the wait (rule R5).
 */
final class RdmaDomains {
    private static final ExecutorService WORKER = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("nvme_rdma_mr").daemon().unstarted(r));
    private static final ConcurrentHashMap<Long, CompletableFuture<RdmaDomain>> DOMAINS = new ConcurrentHashMap<>();

    private RdmaDomains() {
    }

    /**
     * Hands the domain of {@code context} (opened on the worker the first time; a failed open is tried again by the
     * next caller) or the error to {@code done} on {@code thread}: at once when it is open, else by a message.
     */
    static void acquire(VerbsContext context, KeelThread thread, BiConsumer<RdmaDomain, Throwable> done) {
        long key = context.address();
        CompletableFuture<RdmaDomain> f = DOMAINS.computeIfAbsent(key,
                k -> CompletableFuture.supplyAsync(() -> RdmaDomain.open(context, WORKER), WORKER));
        RdmaDomain open = f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
        if (open != null) {
            done.accept(open, null);
            return;
        }
        f.whenComplete((d, error) -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                    : error;
            if (cause != null) {
                DOMAINS.remove(key, f);
            }
            thread.send(() -> done.accept(d, cause)); // refused only by a thread that is ending: nothing waits then
        });
    }
}
