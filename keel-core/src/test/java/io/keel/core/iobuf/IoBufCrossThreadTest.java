package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.SimulationRuntime;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rule R6 across threads: a buffer freed on another thread goes to the global pool, never to the waiter's
 * thread, so the waiter's own retry poller must find it; buffers idle in another thread's cache are given
 * back when some thread waits; and the retry poller runs only while waiters are queued.
 */
class IoBufCrossThreadTest {
    private static final int SMALL = 8;

    private SimulationRuntime sim;
    private IoBuf iobuf;
    private KeelThread a;
    private KeelThread b;
    private IoBufChannel chA;
    private IoBufChannel chB;

    @BeforeEach
    void twoThreadsWithBdevSizedCaches() {
        sim = SimulationRuntime.create(7, CpuMask.of(0, 1));
        iobuf = IoBuf.create(new IoBufOptions(SMALL, 2, 8192, 135168, false));
        a = sim.createThread("a", CpuMask.of(0));
        b = sim.createThread("b", CpuMask.of(1));
        chA = Sim.call(sim, a, () -> iobuf.channel("bdev", 128, 16));
        chB = Sim.call(sim, b, () -> iobuf.channel("bdev", 128, 16));
    }

    @Test
    void buffersFreedOnAnotherThreadWakeTheWaitersThroughTheRetryPoller() {
        List<MemorySegment> heldByB = Sim.call(sim, b, () -> {
            List<MemorySegment> l = new ArrayList<>();
            for (int i = 0; i < SMALL; i++) {
                l.add(chB.get(1, null));
            }
            return l;
        });
        List<MemorySegment> servedOnA = new ArrayList<>();
        List<String> servedOn = new ArrayList<>();
        List<IoBufWaiter> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiters.add(IoBufWaiter.of(buf -> {
                servedOnA.add(buf);
                servedOn.add(KeelThread.current().name());
            }));
        }
        Sim.run(sim, a, () -> waiters.forEach(w -> assertThat(chA.get(1, w)).isNull()));
        Sim.run(sim, a, () -> assertThat(Sim.retryPollerState(a)).isEqualTo(Poller.State.WAITING));

        Sim.run(sim, b, () -> heldByB.forEach(chB::put)); // freed on b: b has no waiter, a does
        assertThat(Sim.call(sim, b, chB::smallCached)).as("b caches nothing while a waits").isZero();

        sim.runUntil(() -> servedOnA.size() == 3, 100_000);
        assertThat(servedOn).containsOnly("a");
        sim.runFor(1_000_000); // 1 ms: the poller sees the empty queues and pauses
        Sim.run(sim, a, () -> assertThat(Sim.retryPollerState(a)).isEqualTo(Poller.State.PAUSED));
        Sim.run(sim, a, () -> servedOnA.forEach(chA::put));
        Sim.run(sim, a, chA::close);
        Sim.run(sim, b, chB::close);
        assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL);
    }

    @Test
    void buffersIdleInAnotherThreadsCacheAreGivenBackToAWaiter() {
        Sim.run(sim, b, () -> {
            List<MemorySegment> l = new ArrayList<>();
            for (int i = 0; i < SMALL; i++) {
                l.add(chB.get(1, null));
            }
            l.forEach(chB::put);
            assertThat(chB.smallCached()).as("nobody waited: every buffer stays in b's cache").isEqualTo(SMALL);
        });
        assertThat(iobuf.smallPoolAvailable()).isZero();

        MemorySegment[] got = new MemorySegment[1];
        IoBufWaiter w = IoBufWaiter.of(buf -> got[0] = buf);
        Sim.run(sim, a, () -> assertThat(chA.get(1, w)).isNull());
        // b is idle from now on: only a's retry poller (and the flush it asks b for) can end the wait
        sim.runUntil(() -> got[0] != null, 100_000);

        assertThat(Sim.call(sim, b, chB::smallCached)).isZero();
        Sim.run(sim, a, () -> {
            chA.put(got[0]);
            chA.close();
        });
        Sim.run(sim, b, chB::close);
        assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL);
    }

    @Test
    void theRetryPollerIsPausedWhileNobodyWaits() {
        Sim.run(sim, a, () -> assertThat(Sim.retryPollerState(a)).isEqualTo(Poller.State.PAUSED));
        Sim.run(sim, a, () -> {
            MemorySegment buf = chA.get(1, null);
            chA.put(buf);
        });
        long steps = sim.steps();
        assertThat(sim.step()).as("nothing runnable and no timer pending: the system is quiescent").isFalse();
        assertThat(sim.steps()).isEqualTo(steps);
        Sim.run(sim, a, () -> assertThat(Sim.retryPollerState(a)).isEqualTo(Poller.State.PAUSED));
        Sim.run(sim, a, chA::close);
        Sim.run(sim, b, chB::close);
    }
}
