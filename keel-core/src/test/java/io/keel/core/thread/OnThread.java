package io.keel.core.thread;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Test helper for real reactors: runs a piece of code on a lightweight thread (by sending it a message) and
 * waits, bounded, for its result on the JUnit thread.
 */
public final class OnThread {
    public static final Duration WAIT = Duration.ofSeconds(10);

    private OnThread() {
    }

    /** Runs {@code fn} on {@code t} and returns its result. */
    public static <T> T call(KeelThread t, Supplier<T> fn) {
        CompletableFuture<T> result = new CompletableFuture<>();
        boolean sent = t.send(() -> {
            try {
                result.complete(fn.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        if (!sent) {
            throw new IllegalStateException("thread " + t.name() + " has exited");
        }
        return await(result);
    }

    /** Runs {@code r} on {@code t} and waits until it has run. */
    public static void run(KeelThread t, Runnable r) {
        call(t, () -> {
            r.run();
            return null;
        });
    }

    /** Waits (bounded) for a future completed from a lightweight thread. */
    public static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("nothing happened within " + WAIT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
