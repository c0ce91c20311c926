package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.testing.LogCapture;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rule R4: exit twice, or after the end, is defined: every caller hears of the end exactly once. */
class ExitIsIdempotentTest {
    @Test
    void everyExitCallerIsToldOnceWhateverTheState() {
        SimulationRuntime sim = SimulationRuntime.create(7, CpuMask.of(0));
        KeelThread t = sim.createThread("t");
        KeelThread other = sim.createThread("other");
        List<String> told = new ArrayList<>();
        t.send(() -> {
            t.exit(() -> told.add("first"));
            t.exit(() -> told.add("second, while exiting"));
        });
        other.send(() -> t.exit(() -> told.add("third, from another thread")));
        sim.runUntilIdle(10_000);
        assertThat(t.state()).isEqualTo(KeelThread.State.EXITED);
        try (LogCapture log = LogCapture.warningsOf(KeelThread.class)) {
            other.send(() -> t.exit(() -> told.add("after the end")));
            sim.runUntilIdle(10_000);
            // an application exiting every thread it knows may reach one that already ended: no mistake, no warning
            assertThat(log.lines()).isEmpty();
        }
        assertThat(told).containsExactlyInAnyOrder("first", "second, while exiting", "third, from another thread",
                "after the end");
    }
}
