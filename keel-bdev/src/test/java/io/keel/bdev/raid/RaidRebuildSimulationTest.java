package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.SimBdevLayer;
import io.keel.bdev.SimIoWorker;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A raid1 rebuild under the simulation (rule R9; scenario S4 of rule R7): I/O runs on the raid from one thread
 * throughout, and new threads open it and start I/O at random points, just before the rebuild starts, while it runs,
 * and after it ends, each on a region of its own. Whatever the interleaving, every I/O succeeds, no read sees wrong data, and once the rebuild is
 * over the target holds exactly what the old member holds.
 */
class RaidRebuildSimulationTest {
    private static final int SEEDS = 200;
    private static final int BLOCK = 512;
    private static final long BLOCKS = 256;
    private static final int LATE_WORKERS = 4;
    /**
     * Each worker writes and reads a region of its own, so a region's first writes land when its worker starts: one
     * the target missed leaves zeros there, which the final comparison finds.
     */
    private static final long REGION = BLOCKS / 8;

    @Test
    void channelsMadeAtAnyPointOfARebuildSeeTheRightMembers() {
        SimulationSeeds.explore("raid1 rebuild with channels made at random points", SEEDS, this::run);
    }

    private void run(long seed) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2));
        SplittableRandom random = new SplittableRandom(seed);
        SimBdevLayer s = SimBdevLayer.start(sim);
        RaidModule module = s.call(s.appThread, () -> RaidModule.addTo(s.layer, s.appThread));
        s.malloc("M0", BLOCK, BLOCKS);
        Bdev m1 = s.malloc("M1", BLOCK, BLOCKS);
        s.malloc("M2", BLOCK, BLOCKS);
        s.run(s.appThread, () -> {
            module.options(new RaidOptions(1, 0)); // windows of 2 blocks: 128 of them
            module.create(new RaidRpcParams.Create("R", null, RaidLevel.RAID1, List.of("M0", "M1"), null, false));
        });
        boolean[] m1Gone = {false};
        s.run(s.appThread, () -> s.layer.unregister(m1, rc -> m1Gone[0] = true));
        s.runUntil(() -> m1Gone[0]);
        Raid raid = module.raid("R");
        List<SimIoWorker> workers = new ArrayList<>();
        workers.add(startWorker(s, "w0", 1, 0));
        // one right before the rebuild starts, in the same turn of the app thread
        s.run(s.appThread, () -> {
            workers.add(startWorker(s, "w_start", 2, 1));
            module.addBaseBdev(new RaidRpcParams.AddBaseBdev("R", "M2"));
        });
        for (int i = 0; i < LATE_WORKERS; i++) {
            for (int steps = random.nextInt(400); steps > 0 && raid.info().process() != null; steps--) {
                sim.step();
            }
            workers.add(startWorker(s, "w" + (i + 1), 1 + random.nextInt(2), workers.size()));
        }
        s.runUntil(() -> raid.info().process() == null);
        assertThat(raid.info().operational()).isEqualTo(2);
        workers.add(startWorker(s, "w_end", 2, workers.size()));
        sim.runFor(100_000);
        boolean[] raidGone = {false};
        s.run(s.appThread, () -> s.layer.unregister(raid.bdev(), rc -> raidGone[0] = true));
        s.runUntil(() -> raidGone[0] && workers.stream().allMatch(SimIoWorker::closed));
        for (SimIoWorker w : workers) {
            assertThat(w.failed() + w.refused() + w.badData() + w.wrongCompletions()).as("seed %d: %s", seed, w)
                    .isZero();
        }
        assertThat(readAll(s, "M2")).as("seed %d: the target is a mirror", seed).isEqualTo(readAll(s, "M0"));
        s.close();
    }

    private static SimIoWorker startWorker(SimBdevLayer s, String name, int core, int region) {
        KeelThread t = s.thread(name, core);
        SimIoWorker w = new SimIoWorker(t, "R", region * REGION, REGION, 2);
        w.start(s.layer);
        return w;
    }

    /** Every block of {@code name}, read on the app thread. */
    private static byte[] readAll(SimBdevLayer s, String name) {
        byte[] data = new byte[(int) BLOCKS * BLOCK];
        MemorySegment buf = MemorySegment.ofArray(data);
        boolean[] done = {false};
        s.run(s.appThread, () -> {
            BdevDesc d = s.layer.open(name, false, (event, b) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            int rc = d.read(ch.context(), buf, 0, BLOCKS, (io, ok, arg) -> {
                assertThat(ok).isTrue();
                io.free();
                ch.put();
                d.close();
                done[0] = true;
            }, null);
            assertThat(rc).isZero();
        });
        s.runUntil(() -> done[0]);
        return data;
    }
}
