package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code iobuf_get_stats}: one entry per registered module, in registration order, each the sum of that
 * module's channels on every thread, gathered on each owner thread; cache/main/retry count where each get was
 * served from. {@code keel_iobuf_get_pools} shows where the buffers are and how many waiters are queued.
 */
class IoBufStatsTest {
    @Test
    void statsSumEachModulesChannelsOverThreads() {
        SimulationRuntime sim = SimulationRuntime.create(3, CpuMask.of(0, 1));
        IoBuf iobuf = IoBuf.create(new IoBufOptions(8, 2, 8192, 135168, false));
        iobuf.registerModule("accel"); // registered, no channel: listed with zeros, as SPDK lists it
        KeelThread t0 = sim.createThread("t0", CpuMask.of(0));
        KeelThread t1 = sim.createThread("t1", CpuMask.of(1));
        KeelThread rpc = sim.createThread("rpc", CpuMask.of(0));

        IoBufChannel bdev0 = Sim.call(sim, t0, () -> iobuf.channel("bdev", 128, 16));
        IoBufChannel nvmf0 = Sim.call(sim, t0, () -> iobuf.channel("nvmf_TCP", 4, 2));
        IoBufChannel bdev1 = Sim.call(sim, t1, () -> iobuf.channel("bdev", 128, 16));

        Sim.run(sim, t0, () -> {
            MemorySegment a = bdev0.get(4096, null); // small main
            bdev0.put(a);
            bdev0.put(bdev0.get(4096, null));        // small cache
            MemorySegment big = nvmf0.get(65536, null); // large main
            nvmf0.put(big);
        });
        List<MemorySegment> held = new ArrayList<>();
        Sim.run(sim, t1, () -> {
            for (int i = 0; i < 7; i++) {
                held.add(bdev1.get(1, null));        // small main x7 (one buffer is in bdev0's cache)
            }
            held.add(bdev1.get(100_000, null));      // large main (the other large buffer is in nvmf0's cache)
            assertThat(bdev1.get(1, IoBufWaiter.of(b -> held.add(b)))).isNull();      // small retry
            assertThat(bdev1.get(100_000, IoBufWaiter.of(b -> held.add(b)))).isNull(); // large retry
        });

        List<List<IoBufPoolUsage>> pools = new ArrayList<>();
        rpc.send(() -> iobuf.getPoolUsage(pools::add));
        sim.runUntil(() -> !pools.isEmpty(), 100_000);
        assertThat(pools.get(0)).containsExactly(
                new IoBufPoolUsage(8, 8192, 0, 1, 1),
                new IoBufPoolUsage(2, 135168, 0, 1, 1));

        List<List<IoBufModuleStats>> result = new ArrayList<>();
        rpc.send(() -> iobuf.getStats(result::add));
        sim.runUntil(() -> !result.isEmpty(), 100_000);
        assertThat(result.get(0)).containsExactly(
                new IoBufModuleStats("accel", new IoBufPoolStats(0, 0, 0, 0), new IoBufPoolStats(0, 0, 0, 0)),
                new IoBufModuleStats("bdev", new IoBufPoolStats(1, 8, 1, 256), new IoBufPoolStats(0, 1, 1, 32)),
                new IoBufModuleStats("nvmf_TCP", new IoBufPoolStats(0, 0, 0, 4), new IoBufPoolStats(0, 1, 0, 2)));

        // the waiters are served by the other thread's cached buffers, through t1's retry poller
        sim.runUntil(() -> held.size() == 10, 100_000);
        Sim.run(sim, t1, () -> {
            held.forEach(bdev1::put);
            bdev1.close();
        });
        Sim.run(sim, t0, () -> {
            bdev0.close();
            nvmf0.close();
        });
        assertThat(iobuf.smallPoolAvailable()).isEqualTo(8);
        assertThat(iobuf.largePoolAvailable()).isEqualTo(2);
    }
}
