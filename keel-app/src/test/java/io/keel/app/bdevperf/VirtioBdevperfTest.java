package io.keel.app.bdevperf;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.passthru.VbdevHarness;
import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keel bdevperf -w verify} over the virtio bdev module (the virtio-user initiator) against Keel's own vhost-blk
 * controller in this JVM, from two cores (two virtqueues): 4 KiB I/O, and 192 KiB I/O that goes as two requests each;
 * every block written is read back and checked.
 */
class VirtioBdevperfTest {
    @TempDir
    Path dir;

    @Test
    void verifyPassesOverVirtioUserWithSmallAndLargeIo() throws Exception {
        try (VbdevHarness target = VbdevHarness.start(dir)) {
            target.malloc("Malloc0", 16384, 512);
            target.result("vhost_create_blk_controller", Map.of("ctrlr", "vhost.0", "dev_name", "Malloc0"));
            String attach = "{\"method\":\"bdev_virtio_attach_controller\",\"params\":{\"name\":\"VirtioBlk0\","
                    + "\"trtype\":\"user\",\"traddr\":\"" + dir.resolve("vhost.0") + "\",\"dev_type\":\"blk\","
                    + "\"vq_count\":2,\"vq_size\":128}}";
            for (int ioSize : new int[] {4096, 196608}) {
                BdevperfOptions o = BdevperfOptions.of(Runs.config(dir, attach), Workload.VERIFY, 16, ioSize, 1.5)
                        .withCores(CpuMask.of(0, 1)).withBdevNames(List.of("VirtioBlk0"));
                Runs.Outcome r = Runs.run(o);
                assertThat(r.exitCode()).as("%d: %s%n%s", ioSize, r.err(), r.out()).isZero();
                assertThat(r.result().jobs()).hasSize(2).allSatisfy(j -> {
                    assertThat(j.name()).isEqualTo("VirtioBlk0");
                    assertThat(j.failed()).isZero();
                    assertThat(j.miscompares()).isZero();
                    assertThat(j.ios()).isGreaterThan(50);
                });
            }
        }
    }
}
