package io.keel.app.bdevperf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.app.nvme.NvmeTarget;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keel bdevperf -w verify} over the nvme bdev module against Keel's own target in this JVM, from two
 * threads (two I/O queues): 4 KiB writes go in the capsule, 128 KiB ones through R2T (several H2CData PDUs), with
 * digests off and on; every block written is read back and checked.
 */
class NvmeBdevperfTest {
    @TempDir
    Path dir;
    NvmeTarget target;

    @AfterEach
    void stop() throws Exception {
        if (target != null) {
            target.close();
        }
    }

    private Runs.Outcome verify(int ioSize, boolean digests) throws Exception {
        Map<String, Object> attach = target.attachParams("Nvme0", "hdgst", digests, "ddgst", digests);
        String entry = "{\"method\":\"bdev_nvme_attach_controller\",\"params\":" + Json.write(attach) + "}";
        Path cfg = Runs.config(dir, entry);
        BdevperfOptions o = BdevperfOptions.of(cfg, Workload.VERIFY, 16, ioSize, 1.5)
                .withCores(CpuMask.of(0, 1)).withBdevNames(List.of("Nvme0n1"));
        return Runs.run(o);
    }

    @Test
    void verifyPassesOverNvmeTcpWithSmallAndLargeIoAndWithDigests() throws Exception {
        target = NvmeTarget.start(dir, 16384);
        for (Object[] c : new Object[][] {{4096, false}, {131072, false}, {4096, true}, {131072, true}}) {
            Runs.Outcome o = verify((int) c[0], (boolean) c[1]);
            assertThat(o.exitCode()).as("%s/%s: %s%n%s", c[0], c[1], o.err(), o.out()).isZero();
            assertThat(o.result().jobs()).hasSize(2);
            for (JobResult j : o.result().jobs()) {
                assertThat(j.name()).isEqualTo("Nvme0n1");
                assertThat(j.failed()).isZero();
                assertThat(j.miscompares()).isZero();
                assertThat(j.ios()).as("%s/%s", c[0], c[1]).isGreaterThan(50);
            }
        }
    }
}
