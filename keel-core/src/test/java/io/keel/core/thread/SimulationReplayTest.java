package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Rule R9: a seed fixes the whole interleaving. Four threads pass work items to each other through messages;
 * each drains its items with an active poller, injects new items with a timed poller, holds an io_channel, and
 * one of them walks the channels with forEachChannel. Run twice with one seed, the simulation takes the same
 * actions in the same order at the same simulated times; other seeds take other paths.
 */
class SimulationReplayTest {
    private static final int NODES = 4;
    private static final int TICKS_PER_NODE = 5;
    private static final int ITEM_HOPS = 3;

    private record Run(long fingerprint, List<String> trace, List<String> events, long steps) {
    }

    /** One node's state, touched only on its own thread. */
    private static final class Node {
        final ArrayDeque<Integer> work = new ArrayDeque<>();
        int ticks;
    }

    private static Run run(long seed) {
        SimulationRuntime sim = SimulationRuntime.createTraced(seed, CpuMask.of(0, 1));
        List<String> events = new ArrayList<>();
        IoDevice<String> device = IoDevice.register("shared", t -> "ctx-" + t.name(), ctx -> events.add("destroy " + ctx));
        KeelThread[] threads = new KeelThread[NODES];
        Node[] nodes = new Node[NODES];
        for (int i = 0; i < NODES; i++) {
            threads[i] = sim.createThread("node" + i);
            nodes[i] = new Node();
        }
        for (int i = 0; i < NODES; i++) {
            int me = i;
            Node node = nodes[i];
            threads[i].send(() -> {
                KeelThread self = KeelThread.current();
                self.getIoChannel(device);
                self.registerPoller("drain", () -> {
                    Integer item = node.work.poll();
                    if (item == null) {
                        return PollerFn.IDLE;
                    }
                    events.add("node" + me + " works " + item);
                    if (item > 0) {
                        Node next = nodes[(me + item) % NODES];
                        threads[(me + item) % NODES].send(next.work::add, item - 1);
                    }
                    return PollerFn.BUSY;
                });
                Poller[] tick = new Poller[1];
                tick[0] = self.registerPoller("tick", () -> {
                    events.add("node" + me + " tick " + node.ticks);
                    threads[(me + 1) % NODES].send(nodes[(me + 1) % NODES].work::add, ITEM_HOPS);
                    if (++node.ticks == TICKS_PER_NODE) {
                        tick[0].unregister();
                    }
                    return PollerFn.BUSY;
                }, 100L * (me + 1));
            });
        }
        threads[0].send(() -> device.forEachChannel((it, ch) -> {
            events.add("visit " + ch.context() + " on " + KeelThread.current().name());
            it.next(0);
        }, status -> events.add("forEachChannel done " + status)));

        sim.runUntilIdle(100_000);

        long worked = events.stream().filter(e -> e.contains(" works ")).count();
        assertThat(worked).as("every item and every hop it spawned was worked")
                .isEqualTo((long) NODES * TICKS_PER_NODE * (ITEM_HOPS + 1));
        assertThat(events).contains("forEachChannel done 0");
        return new Run(sim.fingerprint(), sim.trace(), events, sim.steps());
    }

    @Test
    void theSameSeedReplaysTheSameActionsInTheSameOrder() {
        Run first = run(42);
        for (int replay = 0; replay < 3; replay++) {
            Run again = run(42);
            assertThat(again.trace()).isEqualTo(first.trace());
            assertThat(again.events()).isEqualTo(first.events());
            assertThat(again.fingerprint()).isEqualTo(first.fingerprint());
            assertThat(again.steps()).isEqualTo(first.steps());
        }
        assertThat(first.trace()).as("a non-trivial run").hasSizeGreaterThan(200)
                .anyMatch(line -> line.contains(" <- t")) // thread-to-thread deliveries
                .anyMatch(line -> line.contains(" <- ext")) // deliveries sent from outside
                .anyMatch(line -> line.contains("poll drain"))
                .anyMatch(line -> line.contains("poll tick"))
                .anyMatch(line -> line.contains(" time ")); // simulated time jumped to a timer
    }

    @Test
    void differentSeedsTakeDifferentPaths() {
        Set<Long> fingerprints = new HashSet<>();
        Set<List<String>> eventOrders = new HashSet<>();
        for (long seed = 1; seed <= 8; seed++) {
            Run r = run(seed);
            fingerprints.add(r.fingerprint());
            eventOrders.add(r.events());
        }
        assertThat(fingerprints).hasSize(8);
        assertThat(eventOrders).as("the application itself saw different interleavings").hasSizeGreaterThan(1);
    }
}
