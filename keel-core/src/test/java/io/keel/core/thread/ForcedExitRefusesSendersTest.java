package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A thread forced out at its exit bound refuses later messages instead of accepting and dropping them. */
class ForcedExitRefusesSendersTest {
    @Test
    void afterTheBoundSendReturnsFalse() {
        SimulationRuntime sim = SimulationRuntime.create(3, CpuMask.of(0));
        KeelThread t = sim.createThread("holder");
        IoDevice<Object> dev = IoDevice.register("never_released", th -> new Object(), ctx -> { });
        boolean[] exited = new boolean[1];
        t.send(() -> {
            t.getIoChannel(dev); // held forever: the exit cannot drain
            t.exit(() -> exited[0] = true);
        });
        sim.runFor(KeelThread.EXIT_TIMEOUT_NANOS + 1_000_000_000L);
        assertThat(exited[0]).isTrue();
        assertThat(t.state()).isEqualTo(KeelThread.State.EXITED);
        assertThat(t.send(() -> { })).as("refused, not silently lost").isFalse();
    }
}
