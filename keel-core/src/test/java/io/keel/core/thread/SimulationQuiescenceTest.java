package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulation calls a system quiescent only when nothing can make progress. The common SPDK pattern — a
 * message queues work on a thread and that thread's poller does it later — must not look quiescent just
 * because the poller found nothing to do the last time it ran, before the message arrived.
 */
class SimulationQuiescenceTest {

    @Test
    void workQueuedByAMessageForAnIdlePollerIsStillDone() {
        SimulationSeeds.explore("message queues work for an idle poller", 64, seed -> {
            SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0));
            KeelThread worker = sim.createThread("worker");
            KeelThread client = sim.createThread("client");
            ArrayDeque<String> queue = new ArrayDeque<>();
            List<String> done = new ArrayList<>();
            worker.send(() -> KeelThread.current().registerPoller("worker_poll", () -> {
                String job = queue.poll();
                if (job == null) {
                    return PollerFn.IDLE;
                }
                done.add(job);
                return PollerFn.BUSY;
            }));
            client.send(() -> {
                for (int i = 0; i < 3; i++) {
                    worker.send(queue::add, "job" + i);
                }
            });

            sim.runUntilIdle(10_000);

            assertThat(done).containsExactly("job0", "job1", "job2");
        });
    }

    @Test
    void aSystemWithOnlyIdlePollersAndNoTimersIsQuiescent() {
        SimulationRuntime sim = SimulationRuntime.create(7, CpuMask.of(0));
        KeelThread t = sim.createThread("idle");
        t.send(() -> KeelThread.current().registerPoller("nothing_to_do", () -> PollerFn.IDLE));

        long steps = sim.runUntilIdle(1_000);

        assertThat(steps).isBetween(1L, 3L);
        assertThat(sim.step()).isFalse();
    }
}
