package io.keel.bdev.nul;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.DeferredCompletions;
import io.keel.bdev.ModuleRpcs;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.IoDevice;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** The null module: {@code bdev_null_create}, {@code bdev_null_delete}, {@code bdev_null_resize}. */
public final class NullModule implements BdevModule {
    record CreateParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) Long blockSize,
            @JsonProperty(required = true) Long numBlocks, UUID uuid, Integer physicalBlockSize, Integer mdSize,
            Integer difType, Integer difPiFormat, Boolean difIsHeadOfMd, Integer preferredWriteGranularity,
            Integer preferredWriteAlignment, Integer optimalWriteSize, Integer preferredUnmapGranularity,
            Integer preferredUnmapAlignment) {
    }

    record DeleteParams(@JsonProperty(required = true) String name) {
    }

    record ResizeParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) Long newSize) {
    }

    private final BdevLayer layer;
    private final List<NullBdev> bdevs = new CopyOnWriteArrayList<>();
    private final IoDevice<DeferredCompletions> channels =
            IoDevice.register("null_bdev", DeferredCompletions::new, DeferredCompletions::close);

    private NullModule(BdevLayer layer) {
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        NullModule m = new NullModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_null_create", CreateParams.class, (p, call) -> call.respond(m.create(p)));
        app.methods().register("bdev_null_delete", DeleteParams.class,
                (p, call) -> ModuleRpcs.delete(layer, m, p.name(), call));
        app.methods().register("bdev_null_resize", ResizeParams.class, (p, call) -> {
            m.resize(p);
            call.respond(true);
        });
    }

    @Override
    public String name() {
        return "null";
    }

    IoDevice<DeferredCompletions> channels() {
        return channels;
    }

    private String create(CreateParams p) {
        if (p.mdSize() != null && p.mdSize() != 0 || p.difType() != null && p.difType() != 0) {
            throw RpcException.invalidParams("metadata and DIF are not supported by Keel's null bdev");
        }
        if (p.numBlocks() <= 0 || p.blockSize() <= 0 || p.blockSize() > Integer.MAX_VALUE) {
            throw RpcException.invalidParams("num_blocks and block_size must be positive");
        }
        NullBdev b;
        try {
            b = new NullBdev(this, p.name(), p.uuid(), (int) (long) p.blockSize(), p.numBlocks());
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
        try {
            layer.register(b);
        } catch (BdevException e) {
            throw ModuleRpcs.error(e);
        }
        bdevs.add(b);
        return b.name();
    }

    /** new_size is in MiB, as SPDK's. */
    private void resize(ResizeParams p) {
        Bdev b = layer.get(p.name());
        if (b == null || b.module() != this) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        long bytes = p.newSize() * 1024 * 1024;
        if (p.newSize() <= 0 || bytes % b.blockSize() != 0) {
            throw RpcException.invalidParams("new_size must be a positive number of MiB, a multiple of the block size");
        }
        try {
            layer.resize(b, bytes / b.blockSize());
        } catch (BdevException e) {
            throw ModuleRpcs.error(e);
        }
    }

    void forget(NullBdev b) {
        bdevs.remove(b);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs.stream().map(b -> new ConfigEntry("bdev_null_create", b.createParams())).toList();
    }
}
