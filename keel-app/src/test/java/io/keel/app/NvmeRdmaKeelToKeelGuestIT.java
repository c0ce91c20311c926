package io.keel.app;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keel's NVMe-oF RDMA host against Keel's NVMe-oF RDMA target, two processes in one QEMU guest on Soft-RoCE, through
 * tests/e2e/nvme-rdma-keel2keel-guest.sh with this build's packaged jars (the guest's root is the host's): the
 * target ({@code keel start}, interrupt mode, a brd RAM disk through a uring bdev on rdma 10.0.2.15:4450) and
 * {@code keel bdevperf} attaching it with two I/O queues, one job on each of two cores. Verify at 512 B, 4 KiB
 * (in-capsule writes), 64 KiB, 128 KiB and 256 KiB (keyed SGL both ways; the target's max_io_size is 1 MiB, so 256 KiB
 * moves in two of its data buffers); bytes allocated per I/O in steady state on the target's reactor and on
 * bdevperf's, under 1 on each (the JVMs run C1 only, so nothing is scalar-replaced: one object per I/O would be 16 or
 * more; what the sampling RPCs allocate there is taken off); S1: bdev_nvme_detach_controller under I/O answers
 * and bdevperf ends; S5: the target killed with SIGKILL under I/O, the host resets on the first DISCONNECTED, a new
 * target process comes back and the host reconnects with no failed I/O or miscompare; then killed for good, the
 * controller is deleted after ctrlr_loss_timeout_sec and bdevperf ends with errors, never hanging. Output in
 * keel-app/target/nvme-rdma-keel2keel-guest/.
 */
class NvmeRdmaKeelToKeelGuestIT {
    /** The other RDMA guest tests use 4430 (target) and 4440 (host). */
    private static final String PORT = "4450";

    @Test
    @Timeout(value = 24, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void keelsHostVerifiesAgainstKeelsTargetAndSurvivesItsDeathAndADetachUnderIo() throws Exception {
        GuestScriptRun.runExpecting("nvme-rdma-keel2keel-guest", "tests/e2e/nvme-rdma-keel2keel-guest.sh",
                "NVME-RDMA-KEEL2KEEL-GUEST-OK", 1260, PORT);
    }
}
