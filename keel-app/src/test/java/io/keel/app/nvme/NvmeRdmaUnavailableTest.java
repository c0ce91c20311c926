package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.bdev.BdevTestApp;
import io.keel.core.testing.LogCapture;
import io.keel.rdma.Rdma;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where RDMA cannot be used (this machine's kernel has no RDMA device), attaching or discovering over trtype RDMA
 * fails with the sentence that says what is missing, logged, and leaves nothing behind; TCP is untouched.
 * (Keel's RDMA host on a real device: NvmeRdmaHostGuestIT.)
 */
class NvmeRdmaUnavailableTest {
    @TempDir
    Path dir;
    BdevTestApp host;

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
    }

    @Test
    void anRdmaAttachSaysWhatIsMissing() throws Exception {
        Rdma.Availability rdma = Rdma.availability();
        Assumptions.assumeFalse(rdma.usable(), "RDMA is usable here: " + rdma.reason());
        host = BdevTestApp.start(dir);
        try (LogCapture log = LogCapture.of("io.keel.nvme.host.bdev.NvmeBdevModule")) {
            assertThatThrownBy(() -> host.rpc("bdev_nvme_attach_controller", params("name", "Nvme0", "trtype",
                    "rdma", "adrfam", "IPv4", "traddr", "10.0.2.15", "trsvcid", "4440", "subnqn", "nqn.x:y")))
                    .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> assertThat(e.code).isEqualTo(-19))
                    .hasMessageContaining(rdma.reason());
            assertThat(log.lines()).anyMatch(m -> m.contains("trtype RDMA is not usable here")
                    && m.contains(rdma.reason()));
        }
        assertThatThrownBy(() -> host.rpc("bdev_nvme_start_discovery", params("name", "D", "trtype", "RDMA",
                "traddr", "10.0.2.15", "trsvcid", "4420"))).hasMessageContaining(rdma.reason());
        assertThatThrownBy(() -> host.rpc("bdev_nvme_attach_controller", params("name", "Nvme0", "trtype", "FC",
                "traddr", "10.0.2.15", "subnqn", "nqn.x:y"))).hasMessageContaining("TCP or RDMA");
        assertThat(host.rpc("bdev_nvme_get_controllers", null)).isEmpty();
    }
}
