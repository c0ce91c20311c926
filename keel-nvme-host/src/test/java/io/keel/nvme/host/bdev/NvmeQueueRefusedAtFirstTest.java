package io.keel.nvme.host.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.SimBdevLayer;
import io.keel.bdev.SimIoWorker;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.nvme.host.sim.SimController;
import io.keel.nvme.host.sim.SimHostTransport;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A thread whose I/O queue the controller refuses at its first Connect (Linux's nvmet does so for a queue ID it is
 * still tearing down) is a lost path like any other: the controller resets and the thread's I/O runs. It used to
 * wait in the retry queue for a queue nobody would make.
 */
class NvmeQueueRefusedAtFirstTest {
    @Test
    void aQueueRefusedAtItsFirstConnectResetsTheControllerAndTheIoThenRuns() {
        SimulationRuntime sim = SimulationRuntime.create(11, CpuMask.of(0, 1, 2));
        SimBdevLayer sb = SimBdevLayer.start(sim);
        KeelThread ctrlThread = sb.thread("sim_ctrl", 2);
        SimController ctrl = new SimController(ctrlThread, 256);
        NvmeBdevModule m = sb.call(sb.appThread, () -> {
            NvmeBdevModule mod = NvmeBdevModule.create(() -> sb.appThread, sb.layer);
            mod.addTransport(new SimHostTransport(ctrl));
            return mod;
        });
        NvmeDetachSimulationTest.Answer attached = new NvmeDetachSimulationTest.Answer();
        sb.run(sb.appThread, () -> m.attach(new AttachParams("Nvme0", "TCP", "127.0.0.1", "IPv4", "4420", null,
                SimController.NQN, null, null, null, null, null, null, null, null, null, null, 5, 1, null, null, null,
                null, null, null, null), attached));
        sb.runUntil(attached::done);
        assertThat(attached.result).as("attach: %s", attached.error).isEqualTo(List.of("Nvme0n1"));

        sb.run(ctrlThread, () -> ctrl.refuseIoConnects(1));
        SimIoWorker w = new SimIoWorker(sb.thread("io0", 1), "Nvme0n1", 0, 64, 4);
        w.start(sb.layer);
        sb.runUntil(() -> w.succeeded() > 20);
        assertThat(w.failed()).isZero();
        assertThat(w.badData()).isZero();

        NvmeDetachSimulationTest.Answer detached = new NvmeDetachSimulationTest.Answer();
        sb.run(sb.appThread, () -> m.detach(new DetachParams("Nvme0", null, null, null, null, null, null, null),
                detached));
        sb.runUntil(() -> detached.done() && w.closed());
        assertThat(detached.result).as("detach: %s", detached.error).isEqualTo(true);
        sb.close();
    }
}
