package io.keel.core.iobuf;

import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.SimulationRuntime;
import java.util.function.Supplier;

/** Test helper: runs code on a simulated lightweight thread and steps the simulation until it has run. */
final class Sim {
    private Sim() {
    }

    static <T> T call(SimulationRuntime sim, KeelThread t, Supplier<T> fn) {
        Object[] result = new Object[1];
        boolean[] ran = {false};
        t.send(() -> {
            result[0] = fn.get();
            ran[0] = true;
        });
        sim.runUntil(() -> ran[0], 1_000_000);
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    static void run(SimulationRuntime sim, KeelThread t, Runnable r) {
        call(sim, t, () -> {
            r.run();
            return null;
        });
    }

    /** The state of {@code t}'s iobuf retry poller (owner thread). */
    static Poller.State retryPollerState(KeelThread t) {
        return t.allPollers().stream().filter(p -> p.name().equals("iobuf_retry")).findFirst()
                .map(Poller::state).orElse(Poller.State.UNREGISTERED);
    }
}
