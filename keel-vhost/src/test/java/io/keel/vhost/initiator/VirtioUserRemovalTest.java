package io.keel.vhost.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio bdev going away under I/O: detached by the operator (I/O in flight completes, the bdev is hot-removed,
 * the descriptor hears REMOVE), or its back end gone (I/O in flight fails at once, the bdev is removed); nothing
 * hangs either way.
 */
class VirtioUserRemovalTest {
    @TempDir
    Path dir;
    VirtioUserFixture f;

    @BeforeEach
    void start() {
        f = new VirtioUserFixture(dir);
        // 20 ms per I/O at the back end: I/O is always in flight when the end comes
        f.h.malloc("Malloc1", 4096, 512);
        f.h.result("bdev_delay_create", Map.of("name", "Slow0", "base_bdev_name", "Malloc1", "avg_read_latency", 20000,
                "p99_read_latency", 20000, "avg_write_latency", 20000, "p99_write_latency", 20000));
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    @Test
    void detachWhileIoRunsEndsEveryIoAndRemovesTheBdev() {
        f.h.result("vhost_create_blk_controller", Map.of("ctrlr", "vhost.slow", "dev_name", "Slow0"));
        f.h.result("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                dir.resolve("vhost.slow").toString(), "dev_type", "blk", "vq_size", 64));
        Handle virtio = f.h.open("V");
        Load load = new Load(f.h, virtio, 8);
        load.start();
        await().atMost(VbdevHarness.WAIT).until(() -> load.ok > 16);
        f.detach("V");
        assertThat(virtio.removed).isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> load.inFlight == 0);
        assertThat(load.failed).as("a live back end completes what it has").isZero();
        assertThat(f.h.bdev("V")).isNull();
        assertThat(f.h.result("bdev_virtio_get_devices", null)).isEmpty();
        // ours unmapped and closed at once; the target's session lets go of its mapping as it ends
        await().atMost(VbdevHarness.WAIT).until(() -> SharedMemoryMaps.released("V"));
    }

    @Test
    void backEndGoneUnderIoFailsWhatIsInFlightAndRemovesTheBdev() throws Exception {
        try (TestBackEnd backEnd = new TestBackEnd(f.h, dir.resolve("test-back-end"), "Slow0")) {
            f.h.result("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                    backEnd.path.toString(), "dev_type", "blk", "vq_count", 2, "vq_size", 64));
            Handle virtio = f.h.open("V");
            Load load = new Load(f.h, virtio, 8);
            load.start();
            await().atMost(VbdevHarness.WAIT).until(() -> load.ok > 16);
            long hungUp = System.nanoTime();
            backEnd.hangUp();
            await().atMost(VbdevHarness.WAIT).until(() -> virtio.removed && load.inFlight == 0);
            // well before the back end's 20 ms I/O would have let them finish in turn, and without its drain
            assertThat(Duration.ofNanos(System.nanoTime() - hungUp)).isLessThan(Duration.ofSeconds(2));
            assertThat(load.failed).isPositive();
            await().atMost(VbdevHarness.WAIT).until(() -> f.h.bdev("V") == null);
            assertThat(f.h.result("bdev_virtio_get_devices", null)).isEmpty();
            assertThat(f.h.error("bdev_virtio_detach_controller", Map.of("name", "V"))).isEqualTo(-19);
        }
        await().atMost(VbdevHarness.WAIT).until(() -> SharedMemoryMaps.released("V"));
    }
}
