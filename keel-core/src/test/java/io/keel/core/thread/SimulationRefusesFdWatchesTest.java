package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Real file descriptors are outside the simulation: watching a channel or a raw fd there fails, naming the thread. */
class SimulationRefusesFdWatchesTest {
    @Test
    void watchingAChannelOrARawFdFailsWithAClearMessage() throws Exception {
        SimulationRuntime sim = SimulationRuntime.create(21, CpuMask.of(0));
        KeelThread t = sim.createThread("vhost");
        List<String> refusals = new ArrayList<>();
        try (Pipe.SourceChannel source = Pipe.open().source()) {
            t.send(() -> {
                refusals.add(refusal(() -> t.watch(source, SelectionKey.OP_READ, ready -> 0)));
                refusals.add(refusal(() -> t.watchFd(0, 1, ready -> 0)));
            });
            sim.runUntilIdle(1_000);
        }

        assertThat(refusals).containsOnly("real file descriptors are outside the simulation (thread vhost)").hasSize(2);
    }

    private static String refusal(Runnable watch) {
        try {
            watch.run();
            return "watched";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
