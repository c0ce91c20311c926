package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * SPDK's {@code spdk_for_each_thread} on real reactors: the function runs on every live thread, on that
 * thread, one after another in creation order, and only then does the completion run, on the caller.
 */
class ForEachThreadTest {

    @Test
    void visitsEveryThreadOnItselfThenCompletesOnTheCaller() {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            KeelThread caller = rt.createThread("app_thread", CpuMask.of(0));
            for (int i = 0; i < 5; i++) {
                rt.createThread("worker" + i, CpuMask.of(i % 2));
            }
            List<String> visits = new CopyOnWriteArrayList<>();
            CompletableFuture<String> done = new CompletableFuture<>();

            caller.send(() -> rt.forEachThread(
                    t -> visits.add(t.name() + (KeelThread.current() == t ? " on itself" : " ELSEWHERE")),
                    () -> done.complete(KeelThread.current().name() + " after " + visits.size() + " visits")));

            assertThat(OnThread.await(done)).isEqualTo("app_thread after 6 visits");
            assertThat(visits).containsExactly("app_thread on itself",
                    "worker0 on itself", "worker1 on itself", "worker2 on itself", "worker3 on itself", "worker4 on itself");
        }
    }

    @Test
    void threadsThatExitedBeforehandAreNotVisited() {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true))) {
            KeelThread caller = rt.createThread("app_thread");
            KeelThread stays = rt.createThread("stays");
            KeelThread leaves = rt.createThread("leaves");
            CompletableFuture<Void> left = new CompletableFuture<>();
            leaves.exit(() -> left.complete(null));
            OnThread.await(left);
            List<String> visits = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();

            caller.send(() -> rt.forEachThread(t -> visits.add(t.name()), () -> done.complete(null)));

            OnThread.await(done);
            assertThat(visits).containsExactly("app_thread", stays.name());
        }
    }
}
