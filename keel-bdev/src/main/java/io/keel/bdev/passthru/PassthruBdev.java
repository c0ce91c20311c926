package io.keel.bdev.passthru;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.VirtualBdev;
import io.keel.core.rpc.Json;
import java.util.UUID;

/**
 * A passthru bdev (SPDK's {@code vbdev_passthru}): a virtual bdev with its base's geometry and I/O types that
 * passes every I/O down to the base and completes it as the base did. It does nothing else, which makes it the
 * template for a virtual bdev: {@link VirtualBdev} keeps the base, the per-thread channels to it and the teardown,
 * and this class has only what is its own.
 */
final class PassthruBdev extends VirtualBdev {
    PassthruBdev(PassthruModule module, String name, UUID uuid, BdevDesc base) {
        super(module, name, uuid, "passthru", base);
    }

    @Override
    protected void submit(BdevIo io) {
        forward(0, io, COMPLETE_PARENT);
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        ObjectNode pt = o.putObject("passthru");
        pt.put("name", name());
        pt.put("base_bdev_name", base(0).bdev().name());
        return o;
    }

    /** The parameters of {@code bdev_passthru_create} that recreate this bdev (SPDK's order). */
    ObjectNode createParams() {
        ObjectNode p = Json.object();
        p.put("base_bdev_name", base(0).bdev().name());
        p.put("name", name());
        p.put("uuid", uuid().toString());
        return p;
    }
}
