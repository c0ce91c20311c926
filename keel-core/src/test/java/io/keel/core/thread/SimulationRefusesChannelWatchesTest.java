package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import org.junit.jupiter.api.Test;

/**
 * NIO channels are outside the simulation (their readiness is the selector's): watching one there fails, naming the
 * thread and what does run under it (raw fd watches: SimulationFdWatchTest).
 */
class SimulationRefusesChannelWatchesTest {
    @Test
    void watchingAChannelFailsWithAClearMessage() throws Exception {
        SimulationRuntime sim = SimulationRuntime.create(21, CpuMask.of(0));
        KeelThread t = sim.createThread("rpc");
        boolean[] tried = {false};
        try (Pipe.SourceChannel source = Pipe.open().source()) {
            t.send(() -> {
                assertThatThrownBy(() -> t.watch(source, SelectionKey.OP_READ, ready -> 0))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("channel watches are outside the simulation (thread rpc): only raw fds (watchFd)"
                                + " run under it");
                tried[0] = true;
            });
            sim.runUntilIdle(1_000);
        }

        assertThat(tried[0]).isTrue();
    }
}
