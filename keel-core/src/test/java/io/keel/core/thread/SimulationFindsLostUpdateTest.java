package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A toy protocol with a lost-update race: two clients each increment a counter kept by a store thread by
 * asking for its value and then writing value + 1 back (read-modify-write over messages; nothing stops the
 * other client in between). Client A increments at once; client B first makes four round trips to an
 * "auth" thread, so the two increments overlap only in a few interleavings (a few percent of seeds).
 * Exploring seeds finds one; the failure names the seed; a new simulation with that seed replays the very
 * same run. The correct protocol (one "increment" message the store applies itself) survives every seed.
 */
class SimulationFindsLostUpdateTest {
    private static final int SEED_BUDGET = 200;
    private static final int AUTH_ROUND_TRIPS = 4;

    private record Outcome(int counter, long fingerprint, long steps) {
    }

    /** The store's state; touched only on the store thread. */
    private static final class Store {
        int counter;
    }

    private interface Increment {
        void start(KeelThread client, KeelThread storeThread, Store store);
    }

    /** The bug: read, then write back what was read plus one, in two separate messages. */
    private static final Increment READ_MODIFY_WRITE = (client, storeThread, store) -> storeThread.send(() -> {
        int seen = store.counter;
        client.send(() -> storeThread.send(() -> store.counter = seen + 1));
    });

    /** The fix: the owner of the counter applies the increment itself. */
    private static final Increment ATOMIC = (client, storeThread, store) -> storeThread.send(s -> s.counter++, store);

    private static Outcome twoClientsIncrement(long seed, Increment increment) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1));
        KeelThread storeThread = sim.createThread("store");
        KeelThread auth = sim.createThread("auth");
        Store store = new Store();
        KeelThread clientA = sim.createThread("client_a");
        clientA.send(() -> increment.start(clientA, storeThread, store));
        KeelThread clientB = sim.createThread("client_b");
        int[] tripsLeft = {AUTH_ROUND_TRIPS};
        Runnable[] authenticate = new Runnable[1];
        authenticate[0] = () -> {
            if (tripsLeft[0]-- == 0) {
                increment.start(clientB, storeThread, store);
            } else {
                auth.send(() -> clientB.send(authenticate[0]));
            }
        };
        clientB.send(authenticate[0]);

        sim.runUntilIdle(10_000);
        return new Outcome(store.counter, sim.fingerprint(), sim.steps());
    }

    @Test
    void exploringSeedsCatchesTheLostUpdateAndTheNamedSeedReplaysIt() {
        assumeTrue(System.getProperty("keel.sim.seed") == null, "replaying one seed: nothing to explore");
        List<Long> explored = new ArrayList<>();
        Map<Long, Outcome> outcomes = new HashMap<>();

        AssertionError failure = catchThrowableOfType(AssertionError.class,
                () -> SimulationSeeds.explore("lost update", SEED_BUDGET, seed -> {
                    explored.add(seed);
                    Outcome o = twoClientsIncrement(seed, READ_MODIFY_WRITE);
                    outcomes.put(seed, o);
                    assertThat(o.counter()).as("counter after two increments").isEqualTo(2);
                }));

        assertThat(failure).as("the race is found within %d seeds", SEED_BUDGET).isNotNull();
        long seed = seedNamedIn(failure.getMessage());
        assertThat(seed).isEqualTo(explored.getLast());
        assertThat(explored).as("a rare interleaving: earlier seeds passed").hasSizeGreaterThan(1);
        assertThat(failure.getMessage()).contains("-Dkeel.sim.seed=" + seed);

        Outcome replay = twoClientsIncrement(seed, READ_MODIFY_WRITE);
        assertThat(replay).as("replaying seed %d", seed).isEqualTo(outcomes.get(seed));
        assertThat(replay.counter()).isEqualTo(1);
    }

    @Test
    void theAtomicProtocolSurvivesEverySeed() {
        SimulationSeeds.explore("atomic increment", SEED_BUDGET,
                seed -> assertThat(twoClientsIncrement(seed, ATOMIC).counter()).isEqualTo(2));
    }

    private static long seedNamedIn(String message) {
        Matcher m = Pattern.compile("failed with seed (\\d+)").matcher(message);
        assertThat(m.find()).as("a seed is named in: %s", message).isTrue();
        return Long.parseLong(m.group(1));
    }
}
