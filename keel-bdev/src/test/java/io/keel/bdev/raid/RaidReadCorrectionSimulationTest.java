package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.SimBdevLayer;
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
 * raid1 read corrections racing writes to the same blocks, under the simulation (rule R9): three threads read a few
 * shared blocks of a raid1 whose first member fails a quarter of its reads, and write them too, each block written
 * by one I/O slot only, one write at a time (concurrent writes to one block may land in either order on each member,
 * in any raid1). Both members take their time, finishing I/O in any order. A correction writes back what it read
 * from the other member; were a write to land between that read and the write-back, the members would end
 * different. Whatever the interleaving, every I/O succeeds and the members end identical.
 */
class RaidReadCorrectionSimulationTest {
    private static final int SEEDS = 200;
    private static final long BLOCKS = 64;
    private static final int THREADS = 3;
    private static final int QUEUE_DEPTH = 2;
    /** The blocks every thread reads: one per I/O slot, which alone writes it. */
    private static final int SHARED = THREADS * QUEUE_DEPTH;
    private static final int OPS_PER_THREAD = 60;

    @Test
    void correctionsRacingWritesLeaveTheMembersIdentical() {
        long[] corrected = {0};
        SimulationSeeds.explore("raid1 read corrections racing writes", SEEDS, seed -> corrected[0] += run(seed));
        assertThat(corrected[0]).as("reads corrected over all seeds").isGreaterThan(SEEDS);
    }

    /** One run; returns how many reads it corrected. */
    private static long run(long seed) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2));
        SimBdevLayer s = SimBdevLayer.start(sim);
        RaidModule module = s.call(s.appThread, () -> RaidModule.addTo(s.layer, s.appThread));
        FlakyMemoryBdev failing = new FlakyMemoryBdev("F0", BLOCKS, sim.random(), 0.25);
        FlakyMemoryBdev sound = new FlakyMemoryBdev("F1", BLOCKS, sim.random(), 0);
        s.run(s.appThread, () -> {
            s.layer.register(failing);
            s.layer.register(sound);
            module.create(new RaidRpcParams.Create("R", null, RaidLevel.RAID1, List.of("F0", "F1"), null, false));
        });
        Raid raid = module.raid("R");
        List<Client> clients = new ArrayList<>();
        for (int core = 0; core < THREADS; core++) {
            clients.add(new Client(s, s.thread("io" + core, core), core, new SplittableRandom(seed * 31 + core)));
        }
        clients.forEach(Client::start);
        s.runUntil(() -> clients.stream().allMatch(Client::finished));
        for (Client c : clients) {
            assertThat(c.failed).as("seed %d: failed I/O on %s", seed, c.thread.name()).isZero();
        }
        assertThat(raid.info().operational()).as("seed %d: no member failed", seed).isEqualTo(2);
        assertThat(failing.contents()).as("seed %d: the members are mirrors", seed).isEqualTo(sound.contents());
        long corrected = raid.bdev().readsCorrected();
        clients.forEach(Client::close);
        s.close();
        return corrected;
    }

    /**
     * One thread's I/O: {@link #QUEUE_DEPTH} at a time, each a one-block read of any shared block or a write of a
     * fresh value to its slot's own block.
     */
    private static final class Client {
        final SimBdevLayer s;
        final KeelThread thread;
        final int index;
        final SplittableRandom random;
        final MemorySegment[] buffers = new MemorySegment[QUEUE_DEPTH];
        BdevDesc desc;
        IoChannel<BdevChannel> channel;
        int submitted;
        int completed;
        int failed;

        Client(SimBdevLayer s, KeelThread thread, int index, SplittableRandom random) {
            this.s = s;
            this.thread = thread;
            this.index = index;
            this.random = random;
            for (int i = 0; i < QUEUE_DEPTH; i++) {
                buffers[i] = MemorySegment.ofArray(new byte[512]);
            }
        }

        void start() {
            s.run(thread, () -> {
                desc = s.layer.open("R", true, (event, b) -> { });
                channel = desc.getIoChannel();
                for (int slot = 0; slot < QUEUE_DEPTH; slot++) {
                    next(slot);
                }
            });
        }

        private void next(int slot) {
            if (submitted == OPS_PER_THREAD) {
                return;
            }
            submitted++;
            MemorySegment buf = buffers[slot];
            int rc;
            if (random.nextBoolean()) {
                buf.fill((byte) random.nextInt(1, 256));
                long own = (long) slot * THREADS + index;
                rc = desc.write(channel.context(), buf, own, 1, (io, ok, arg) -> done(io, ok, slot), null);
            } else {
                long any = random.nextInt(SHARED);
                rc = desc.read(channel.context(), buf, any, 1, (io, ok, arg) -> done(io, ok, slot), null);
            }
            assertThat(rc).isZero();
        }

        private void done(BdevIo io, boolean ok, int slot) {
            io.free();
            completed++;
            if (!ok) {
                failed++;
            }
            next(slot);
        }

        boolean finished() {
            return completed == OPS_PER_THREAD;
        }

        void close() {
            s.run(thread, () -> {
                channel.put();
                desc.close();
            });
        }
    }
}
