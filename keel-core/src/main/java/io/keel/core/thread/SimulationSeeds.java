package io.keel.core.thread;

import java.util.function.LongConsumer;

/**
 * Runs a scenario under many seeds. {@code -Dkeel.sim.seed=N} replays one seed; {@code -Dkeel.sim.seeds=K}
 * changes how many are explored (CI runs the default, a nightly-style run many more).
 */
public final class SimulationSeeds {
    private SimulationSeeds() {
    }

    /** Runs {@code scenario} for each seed; the first failure is rethrown naming its seed. */
    public static void explore(String scenario, int defaultSeeds, LongConsumer run) {
        String replay = System.getProperty("keel.sim.seed");
        if (replay != null) {
            runOne(scenario, Long.parseLong(replay), run);
            return;
        }
        int count = Integer.getInteger("keel.sim.seeds", defaultSeeds);
        for (long seed = 1; seed <= count; seed++) {
            runOne(scenario, seed, run);
        }
    }

    private static void runOne(String scenario, long seed, LongConsumer run) {
        try {
            run.accept(seed);
        } catch (SimulationRuntime.SimulationFailure e) {
            throw e;
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError("scenario '" + scenario + "' failed with seed " + seed
                    + " (replay with -Dkeel.sim.seed=" + seed + "): " + e.getMessage(), e);
        }
    }
}
