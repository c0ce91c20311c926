package io.keel.vhost.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.vhost.user.VhostUserRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attaching Keel's virtio-user initiator to Keel's own vhost-blk controller, and the attaches it refuses. */
class VirtioUserAttachTest {
    @TempDir
    Path dir;
    VirtioUserFixture f;

    @BeforeEach
    void start() {
        f = new VirtioUserFixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    @Test
    void attachServesTheDeviceAsABdevAndDetachRemovesIt() {
        JsonNode r = f.attach("VirtioBlk0", 2, 64);
        assertThat(r.get("result")).as(r.toString()).hasSize(1);
        assertThat(r.get("result").get(0).asText()).isEqualTo("VirtioBlk0");
        JsonNode b = f.h.bdev("VirtioBlk0");
        assertThat(b.get("product_name").asText()).isEqualTo("VirtioBlk Disk");
        assertThat(b.get("block_size").asInt()).isEqualTo(512);
        assertThat(b.get("num_blocks").asLong()).isEqualTo(VirtioUserFixture.BLOCKS);
        assertThat(b.get("supported_io_types").get("unmap").asBoolean()).isTrue();
        assertThat(b.get("supported_io_types").get("write_zeroes").asBoolean()).isTrue();
        JsonNode virtio = b.get("driver_specific").get("virtio");
        assertThat(virtio.get("vq_count").asInt()).isEqualTo(2);
        assertThat(virtio.get("vq_size").asInt()).isEqualTo(64);
        assertThat(virtio.get("type").asText()).isEqualTo("user");
        assertThat(virtio.get("socket").asText()).isEqualTo(f.socket.toString());

        assertThat(SharedMemoryMaps.mappings("VirtioBlk0")).as("ours and the target's").isEqualTo(2);
        assertThat(SharedMemoryMaps.fds("VirtioBlk0")).as("ours (the target keeps none open)").isEqualTo(1);
        JsonNode devices = f.h.result("bdev_virtio_get_devices", null);
        assertThat(devices).hasSize(1);
        assertThat(devices.get(0).get("name").asText()).isEqualTo("VirtioBlk0");
        assertThat(devices.get(0).get("virtio")).isEqualTo(virtio);

        f.detach("VirtioBlk0");
        assertThat(f.h.bdev("VirtioBlk0")).isNull();
        assertThat(f.h.result("bdev_virtio_get_devices", null)).isEmpty();
        assertThat(f.h.error("bdev_virtio_detach_controller", Map.of("name", "VirtioBlk0"))).isEqualTo(-19);
        await().atMost(Duration.ofSeconds(10)).until(() -> SharedMemoryMaps.released("VirtioBlk0"));
        // the controller took the session's end: a second attach works
        assertThat(f.attach("VirtioBlk1", 1, 64).get("result").get(0).asText()).isEqualTo("VirtioBlk1");
        f.detach("VirtioBlk1");
    }

    @Test
    void queuesAreCappedByTheDevice() {
        f.attach("VirtioBlk0", 64, 128);
        JsonNode virtio = f.h.bdev("VirtioBlk0").get("driver_specific").get("virtio");
        assertThat(virtio.get("vq_count").asInt()).isBetween(1, 16);
        f.detach("VirtioBlk0");
    }

    @Test
    void refusedAttachesSayWhyAndLeaveNothing() {
        JsonNode noSocket = f.h.call("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                dir.resolve("nothing-here").toString(), "dev_type", "blk"));
        assertThat(noSocket.get("error").get("code").asInt()).isEqualTo(-32602);
        assertThat(noSocket.get("error").get("message").asText()).contains("cannot connect").contains("nothing-here");
        JsonNode pci = f.h.call("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "pci", "traddr",
                "0000:00:04.0", "dev_type", "blk"));
        assertThat(pci.get("error").get("message").asText()).contains("trtype pci");
        JsonNode scsi = f.h.call("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                f.socket.toString(), "dev_type", "scsi"));
        assertThat(scsi.get("error").get("message").asText()).contains("dev_type scsi");
        JsonNode size = f.attach("V", 1, 100);
        assertThat(size.get("error").get("message").asText()).contains("vq_size 100");
        JsonNode tooBig = f.attach("V", 1, 2048); // Keel's target takes queues of up to 1024 entries
        assertThat(tooBig.get("error").get("message").asText()).contains("refused SET_VRING_NUM");
        JsonNode taken = f.attach("Malloc0", 1, 64);
        assertThat(taken.get("error").get("message").asText()).contains("Malloc0");
        assertThat(f.h.result("bdev_virtio_get_devices", null)).isEmpty();
        assertThat(f.h.bdev("V")).isNull();
        // nothing left of refused attaches (the target's session that mapped the memory ends as the socket closes)
        await().atMost(Duration.ofSeconds(10)).until(() -> SharedMemoryMaps.released("V"));
        // and a good attach still works after them
        assertThat(f.attach("V", 1, 64).get("result").get(0).asText()).isEqualTo("V");
        f.detach("V");
    }

    /** A socket nobody serves (a hung back end): the first question's deadline ends the attach, nothing blocks. */
    @Test
    void aBackEndThatNeverAnswersFailsTheAttachAtTheStepDeadline() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            Path silent = dir.resolve("silent");
            int fd = UnixSocket.listen(silent.toString(), 4, cs);
            assertThat(fd).isPositive();
            try {
                long start = System.nanoTime();
                JsonNode r = f.h.call("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                        silent.toString(), "dev_type", "blk"));
                assertThat(r.get("error").get("message").asText()).contains("no answer to GET_FEATURES within 5 s");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofSeconds(4),
                        Duration.ofSeconds(9));
                assertThat(f.h.bdev("V")).isNull();
                // the application thread kept serving meanwhile: a good attach works at once
                assertThat(f.attach("V", 1, 64).get("result").get(0).asText()).isEqualTo("V");
                f.detach("V");
            } finally {
                Libc.closeQuietly(fd);
            }
        }
    }

    /** A back end that hangs after the negotiation (no acknowledgement of SET_MEM_TABLE): that step's deadline. */
    @Test
    void aBackEndThatHangsMidSetupFailsTheAttachAtThatStepsDeadline() throws Exception {
        Path path = dir.resolve("scripted");
        try (ScriptedBackEnd backEnd = new ScriptedBackEnd(path, VhostUserRequest.SET_MEM_TABLE)) {
            long start = System.nanoTime();
            JsonNode r = f.h.call("bdev_virtio_attach_controller", Map.of("name", "V", "trtype", "user", "traddr",
                    path.toString(), "dev_type", "blk", "vq_size", 64));
            assertThat(r.get("error").get("message").asText()).contains("no acknowledgement of SET_MEM_TABLE within 5 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofSeconds(4),
                    Duration.ofSeconds(9));
            assertThat(backEnd.seen()).containsExactly("GET_FEATURES", "GET_PROTOCOL_FEATURES", "SET_PROTOCOL_FEATURES",
                    "SET_OWNER", "GET_QUEUE_NUM", "GET_CONFIG", "SET_FEATURES", "SET_MEM_TABLE");
            assertThat(f.h.bdev("V")).isNull();
            await().atMost(Duration.ofSeconds(10)).until(() -> SharedMemoryMaps.released("V"));
        }
    }

    @Test
    void saveConfigWritesTheAttachAndItRestoresTheBdev() throws Exception {
        f.attach("VirtioBlk0", 2, 128);
        JsonNode p = f.h.configParams("bdev_virtio_attach_controller");
        assertThat(p).isNotNull();
        assertThat(p.get("name").asText()).isEqualTo("VirtioBlk0");
        assertThat(p.get("dev_type").asText()).isEqualTo("blk");
        assertThat(p.get("trtype").asText()).isEqualTo("user");
        assertThat(p.get("traddr").asText()).isEqualTo(f.socket.toString());
        assertThat(p.get("vq_count").asInt()).isEqualTo(2);
        assertThat(p.get("vq_size").asInt()).isEqualTo(128);
        f.detach("VirtioBlk0");
        assertThat(f.h.result("bdev_virtio_attach_controller", p).get(0).asText()).isEqualTo("VirtioBlk0");
        assertThat(f.h.bdev("VirtioBlk0").get("driver_specific").get("virtio").get("vq_count").asInt()).isEqualTo(2);
        f.detach("VirtioBlk0");
    }
}
