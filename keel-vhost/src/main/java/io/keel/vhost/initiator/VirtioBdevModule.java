package io.keel.vhost.initiator;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.sys.Libc;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code virtio_blk} bdev module (SPDK's {@code bdev_virtio} with trtype user, dev_type blk): virtio-blk devices
 * behind vhost-user sockets as bdevs. Methods: {@code bdev_virtio_attach_controller} (answers the bdev names),
 * {@code bdev_virtio_detach_controller}, {@code bdev_virtio_get_devices}; each attached controller is saved as its
 * attach. Controllers by name, on the application thread.
 */
public final class VirtioBdevModule implements BdevModule {
    /** SPDK's defaults for trtype user. */
    static final int DEFAULT_VQ_COUNT = 1;
    static final int DEFAULT_VQ_SIZE = 512;
    /** The split ring's largest size (virtio 1.1: 32768). */
    static final int MAX_VQ_SIZE = 32768;

    record AttachParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String trtype,
            @JsonProperty(required = true) String traddr, @JsonProperty(required = true) String devType, Long vqCount,
            Long vqSize) {
    }

    record DetachParams(@JsonProperty(required = true) String name) {
    }

    private final KeelApp app;
    private final BdevLayer layer;
    private final Map<String, VirtioUserController> controllers = new LinkedHashMap<>();

    private VirtioBdevModule(KeelApp app, BdevLayer layer) {
        this.app = app;
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        VirtioBdevModule m = new VirtioBdevModule(app, layer);
        layer.addModule(m);
        app.methods().register("bdev_virtio_attach_controller", AttachParams.class,
                (p, call) -> app.onAppThread(() -> m.attach(p, call)));
        app.methods().register("bdev_virtio_detach_controller", DetachParams.class,
                (p, call) -> app.onAppThread(() -> m.detach(p.name(), call)));
        app.methods().register("bdev_virtio_get_devices", Void.class,
                (p, call) -> app.onAppThread(() -> call.respond(m.devices())));
    }

    @Override
    public String name() {
        return "virtio_blk";
    }

    private void attach(AttachParams p, RpcCall call) {
        if (!p.trtype().equals("user")) {
            call.fail(RpcException.INVALID_PARAMS, "trtype " + p.trtype()
                    + ": Keel's virtio bdev module attaches vhost-user sockets only (trtype user)");
            return;
        }
        if (!p.devType().equals("blk")) {
            call.fail(RpcException.INVALID_PARAMS, "dev_type " + p.devType()
                    + ": Keel's virtio bdev module drives virtio-blk devices only (dev_type blk)");
            return;
        }
        long vqCount = p.vqCount() == null || p.vqCount() == 0 ? DEFAULT_VQ_COUNT : p.vqCount();
        long vqSize = p.vqSize() == null || p.vqSize() == 0 ? DEFAULT_VQ_SIZE : p.vqSize();
        if (vqCount < 0 || vqCount > 0xFFFF) {
            call.fail(RpcException.INVALID_PARAMS, "vq_count " + vqCount + ": at most 65535 queues");
            return;
        }
        if (vqSize < 0 || vqSize > MAX_VQ_SIZE || Long.bitCount(vqSize) != 1) {
            call.fail(RpcException.INVALID_PARAMS, "vq_size " + vqSize + ": a power of two up to " + MAX_VQ_SIZE);
            return;
        }
        if (controllers.containsKey(p.name()) || layer.get(p.name()) != null) {
            call.fail(RpcException.INVALID_PARAMS, Libc.strerror(Errno.EEXIST) + ": " + p.name() + " is taken");
            return;
        }
        VirtioUserController c = new VirtioUserController(this, p.name(), p.traddr(), (int) vqCount, (int) vqSize,
                app.appThread(), layer, app.options().interruptMode());
        controllers.put(p.name(), c);
        c.attach((rc, detail) -> {
            if (rc == 0) {
                ArrayNode names = Json.MAPPER.createArrayNode();
                names.add(detail);
                call.respond(names);
            } else {
                call.fail(RpcException.INVALID_PARAMS, Libc.strerror(-rc) + ": " + detail);
            }
        });
    }

    private void detach(String name, RpcCall call) {
        VirtioUserController c = controller(name);
        if (c == null) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        c.detach(rc -> {
            if (rc == 0) {
                call.respond(true);
            } else {
                call.fail(rc, "virtio " + name + " was not removed in time: something still holds its bdev (see the log)");
            }
        });
    }

    /** Like SPDK's {@code bdev_virtio_scsi_get_devices}: each attached device's name and virtio details. */
    private ArrayNode devices() {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (VirtioUserController c : controllers.values()) {
            if (c.state() == VirtioUserController.State.ACTIVE) {
                ObjectNode o = out.addObject();
                o.put("name", c.name());
                o.set("virtio", c.describe());
            }
        }
        return out;
    }

    /** The controller of that name (attaching, attached or being removed), or null. App thread. */
    VirtioUserController controller(String name) {
        return controllers.get(name);
    }

    /** A controller is over (attach failed, or its bdev destructed). App thread. */
    void forget(VirtioUserController c) {
        controllers.remove(c.name(), c);
    }

    @Override
    public List<ConfigEntry> config() {
        List<ConfigEntry> out = new ArrayList<>();
        for (VirtioUserController c : controllers.values()) {
            if (c.state() == VirtioUserController.State.ACTIVE) {
                out.add(new ConfigEntry("bdev_virtio_attach_controller", c.attachParams()));
            }
        }
        return out;
    }

    /** At exit every bdev is gone already; attaches still under way are given up. */
    @Override
    public void fini(Runnable done) {
        for (VirtioUserController c : new ArrayList<>(controllers.values())) {
            c.detach(rc -> { });
        }
        done.run();
    }
}
