package io.keel.vhost.initiator;

import io.keel.bdev.passthru.VbdevHarness;
import java.nio.file.Path;
import java.util.Map;

/**
 * One Keel application that is both ends: a vhost-blk controller "vhost.0" over malloc bdev Malloc0 (8192 blocks of
 * 512 bytes) and the virtio-user initiator attached to its socket as bdev VirtioBlk0.
 */
final class VirtioUserFixture implements AutoCloseable {
    static final long BLOCKS = 8192;

    final VbdevHarness h;
    final Path socket;

    VirtioUserFixture(Path dir) {
        h = VbdevHarness.start(dir);
        h.malloc("Malloc0", BLOCKS, 512);
        h.result("vhost_create_blk_controller", Map.of("ctrlr", "vhost.0", "dev_name", "Malloc0"));
        socket = dir.resolve("vhost.0");
    }

    /** bdev_virtio_attach_controller's whole answer. */
    com.fasterxml.jackson.databind.JsonNode attach(String name, int vqCount, int vqSize) {
        return h.call("bdev_virtio_attach_controller", Map.of("name", name, "trtype", "user", "traddr",
                socket.toString(), "dev_type", "blk", "vq_count", vqCount, "vq_size", vqSize));
    }

    void detach(String name) {
        h.result("bdev_virtio_detach_controller", Map.of("name", name));
    }

    @Override
    public void close() throws Exception {
        h.close();
    }
}
