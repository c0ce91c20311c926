package io.keel.nvme.host.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.TransportId;
import io.keel.nvme.spec.Opcode;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The host's controller and queue pairs under the deterministic simulation, against {@link SimController}: I/O on
 * two threads while, in an order and at times each seed picks, a reset runs, namespaces change (an AEN), the
 * controller is killed and revived, and finally the queues and the controller are torn down. Under every seed each
 * command ends exactly once, nothing waits past its bound, and everything ends closed.
 */
class HostControllerSimTest {
    static final int QD = 4;

    /** One thread's queue and its load; touched only on that thread. */
    static final class Load {
        final KeelThread thread;
        final HostPollGroup group;
        HostQpair q;
        long submitted;
        long ended;
        long failed;
        boolean stopping;
        boolean closed;
        final MemorySegment buf = MemorySegment.ofArray(new long[64 * QD]); // heap: nothing to free

        Load(KeelThread thread) {
            this.thread = thread;
            this.group = new HostPollGroup(thread);
        }

        void submit(int slot) {
            if (stopping || q.state() != HostQpair.State.CONNECTED) {
                return;
            }
            HostRequest r = q.allocate();
            if (r == null) {
                return;
            }
            boolean write = (submitted & 1) == 0;
            r.sqe().opcode(write ? Opcode.WRITE : Opcode.READ).nsid(1).rw().slba(slot).blockCount(1);
            r.toController(write).segment(buf, 512L * slot, 512);
            submitted++;
            if (q.submit(r, (a, st, res) -> {
                ended++;
                if (st != 0) {
                    failed++;
                }
                submit(slot);
            }, null) != 0) {
                submitted--;
            }
        }
    }

    @Test
    void resetsEventsAndLossesRacingIoAndTeardownEndEveryCommandOnceUnderEverySeed() {
        SimulationSeeds.explore("host controller races", 200, seed -> run(seed));
    }

    private void run(long seed) {
        SimulationRuntime sim = SimulationRuntime.create(seed, CpuMask.of(0, 1, 2, 3));
        SplittableRandom rnd = new SplittableRandom(seed);
        SimController ctrl = new SimController(sim.createThread("sim_ctrl", CpuMask.of(3)), 64);
        KeelThread app = sim.createThread("app", CpuMask.of(0));
        List<Load> loads = List.of(new Load(sim.createThread("io0", CpuMask.of(1))),
                new Load(sim.createThread("io1", CpuMask.of(2))));
        List<String> events = new ArrayList<>();
        HostController[] c = new HostController[1];
        HostQpair.Listener qpairListener = new HostQpair.Listener() {
            @Override
            public void connected(HostQpair q) {
                Load l = loads.stream().filter(x -> x.q == q).findFirst().orElseThrow();
                for (int i = 0; i < QD; i++) {
                    l.submit(i);
                }
            }

            @Override
            public void lost(HostQpair q, String reason) {
                events.add("qpair lost");
            }
        };
        String[] up = new String[1];
        app.send(() -> {
            TransportId trid = TransportId.parse("trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:" + SimController.NQN);
            c[0] = new HostController(new HostPollGroup(app), new SimHostTransport(ctrl), trid,
                    ControllerOptions.defaults().withKeepAliveMs(2000).withTimeouts(500, 1000),
                    new HostController.Listener() {
                        @Override
                        public void lost(HostController hc, String reason) {
                            events.add("lost");
                        }

                        @Override
                        public void namespacesChanged(HostController hc, List<Integer> a, List<Integer> r,
                                List<Integer> s) {
                            events.add("namespaces " + a + r);
                        }
                    });
            c[0].start(err -> up[0] = err == null ? "ok" : err);
        });
        sim.runUntil(() -> up[0] != null, 200_000);
        assertThat(up[0]).isEqualTo("ok");
        for (Load l : loads) {
            l.thread.send(() -> {
                l.q = c[0].newIoQpair(l.group, 8, 16, 0, qpairListener);
                l.q.connect(-1);
            });
        }
        sim.runFor(rnd.nextLong(1_000_000, 5_000_000));

        // the races: each seed picks which happen and in what order, at random simulated times
        List<Runnable> racers = new ArrayList<>();
        racers.add(ctrl::changeNamespaces);
        if (rnd.nextBoolean()) {
            racers.add(() -> app.send(() -> c[0].reset(err -> events.add("reset " + err))));
        }
        if (rnd.nextInt(3) == 0) {
            racers.add(ctrl::kill);
        }
        java.util.Collections.shuffle(racers, new java.util.Random(seed));
        for (Runnable r : racers) {
            r.run();
            sim.runFor(rnd.nextLong(0, 300_000));
        }
        ctrl.revive();

        // teardown, as a bdev module would: every thread's queue first, then the controller
        boolean[] detached = new boolean[1];
        int[] closedQueues = {0};
        for (Load l : loads) {
            l.thread.send(() -> {
                l.stopping = true;
                l.q.disconnect("teardown", () -> {
                    l.q.close();
                    c[0].releaseQid(l.q.qid());
                    l.group.close();
                    l.closed = true;
                    app.send(() -> {
                        if (++closedQueues[0] == loads.size()) {
                            c[0].detach(() -> detached[0] = true);
                        }
                    });
                });
            });
        }
        sim.runUntil(() -> detached[0], 2_000_000);
        sim.runUntilIdle(1_000_000);
        assertThat(c[0].state()).isEqualTo(HostController.State.DETACHED);
        for (Load l : loads) {
            assertThat(l.closed).isTrue();
            assertThat(l.ended).as("every command ends exactly once (seed %d, events %s)", seed, events)
                    .isEqualTo(l.submitted);
        }
    }
}
