package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Interrupt mode is for idle efficiency: a reactor with an idle thread uses almost no CPU (a few ms at most
 * over 300 ms), measured as the reactor OS thread's own CPU time. The same measurement on a poll-mode reactor
 * shows the busy loop, which proves the measurement sees the reactor at all.
 */
class IdleReactorCpuTest {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static final long WINDOW_MILLIS = 300;

    private static long idleCpuMillis(boolean interruptMode) throws InterruptedException {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), interruptMode))) {
            KeelThread t = rt.createThread("idle_app_thread");
            OnThread.run(t, () -> { });
            long osThreadId = rt.reactorOf(t).osThread().threadId();
            Thread.sleep(20); // let the reactor settle after the message

            long before = MX.getThreadCpuTime(osThreadId);
            Thread.sleep(WINDOW_MILLIS);
            long after = MX.getThreadCpuTime(osThreadId);
            assertThat(before).as("CPU time of the reactor thread is measurable").isNotNegative();
            return (after - before) / 1_000_000;
        }
    }

    @Test
    void anIdleInterruptModeReactorBurnsAlmostNoCpu() throws InterruptedException {
        assertThat(idleCpuMillis(true)).as("CPU ms used by an idle interrupt-mode reactor in %d ms", WINDOW_MILLIS)
                .isLessThanOrEqualTo(5);
    }

    @Test
    void aThreadWaitingToExitUntilItsChannelIsReleasedLeavesTheReactorAsleep() throws InterruptedException {
        try (ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), true))) {
            KeelThread t = rt.createThread("exiting_app_thread");
            IoDevice<String> device = IoDevice.register("held_by_exiting_thread", KeelThread::name, ctx -> { });
            IoChannel<String> ch = OnThread.call(t, () -> t.getIoChannel(device));
            CompletableFuture<Void> exited = new CompletableFuture<>();
            t.exit(() -> exited.complete(null));
            OnThread.run(t, () -> { });
            assertThat(t.state()).isEqualTo(KeelThread.State.EXITING);
            long osThreadId = rt.reactorOf(t).osThread().threadId();
            Thread.sleep(20);

            long before = MX.getThreadCpuTime(osThreadId);
            Thread.sleep(WINDOW_MILLIS);
            long cpuMillis = (MX.getThreadCpuTime(osThreadId) - before) / 1_000_000;
            t.send(ch::put); // the holder releases its channel: the exit completes

            OnThread.await(exited);
            assertThat(cpuMillis).as("CPU ms used while a thread waits %d ms to exit", WINDOW_MILLIS).isLessThanOrEqualTo(5);
        }
    }

    @Test
    void anIdlePollModeReactorSpinsForComparison() throws InterruptedException {
        assertThat(idleCpuMillis(false)).as("CPU ms used by an idle poll-mode reactor in %d ms", WINDOW_MILLIS)
                .isGreaterThan(WINDOW_MILLIS / 10);
    }
}
