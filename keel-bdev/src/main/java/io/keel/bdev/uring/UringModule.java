package io.keel.bdev.uring;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.ModuleRpcs;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.IoDevice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** The uring module: {@code bdev_uring_create}, {@code bdev_uring_delete}. */
public final class UringModule implements BdevModule {
    record CreateParams(@JsonProperty(required = true) String filename, @JsonProperty(required = true) String name,
            Integer blockSize, UUID uuid) {
    }

    record DeleteParams(@JsonProperty(required = true) String name) {
    }

    private final BdevLayer layer;
    private final List<UringBdev> bdevs = new CopyOnWriteArrayList<>();
    private final IoDevice<UringChannel> channels = IoDevice.registerDraining("bdev_uring", UringChannel::new,
            UringChannel::release);

    private UringModule(BdevLayer layer) {
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        UringModule m = new UringModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_uring_create", CreateParams.class, (p, call) -> call.respond(m.create(p)));
        app.methods().register("bdev_uring_delete", DeleteParams.class,
                (p, call) -> ModuleRpcs.delete(layer, m, p.name(), call));
    }

    @Override
    public String name() {
        return "uring";
    }

    IoDevice<UringChannel> channels() {
        return channels;
    }

    private String create(CreateParams p) {
        if (layer.get(p.name()) != null) {
            throw RpcException.errno(io.keel.core.rpc.Errno.EEXIST, "bdev name " + p.name() + " already exists");
        }
        try {
            IoUring.open(2).close(); // say now, not at first I/O, when this machine has no io_uring
        } catch (IoUringUnavailableException e) {
            throw RpcException.errno(io.keel.core.rpc.Errno.ENOTSUP, e.getMessage());
        }
        NativeFile file;
        try {
            file = NativeFile.open(Path.of(p.filename()), true, true);
        } catch (IOException e) {
            throw RpcException.errno(io.keel.core.rpc.Errno.ENOENT, "cannot open " + p.filename() + ": " + e.getMessage());
        }
        try {
            int bs = p.blockSize() != null ? p.blockSize() : Math.max(512, file.logicalBlockSize());
            if (bs < 512 || Integer.bitCount(bs) != 1 || bs % file.ioAlignment() != 0) {
                throw RpcException.invalidParams("block_size " + bs + " must be a power of two of at least 512 and a multiple of "
                        + file.ioAlignment() + " (the file's O_DIRECT alignment)");
            }
            long blocks = file.size() / bs;
            if (blocks == 0) {
                throw RpcException.invalidParams(p.filename() + " is smaller than one block of " + bs + " bytes");
            }
            UringBdev b = new UringBdev(this, p.name(), p.uuid(), file, bs, blocks);
            layer.register(b);
            bdevs.add(b);
            return b.name();
        } catch (BdevException e) {
            file.close();
            throw ModuleRpcs.error(e);
        } catch (IOException e) {
            file.close();
            throw RpcException.errno(io.keel.core.rpc.Errno.EIO, "cannot size " + p.filename() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    void forget(UringBdev b) {
        bdevs.remove(b);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs.stream().map(b -> new ConfigEntry("bdev_uring_create", b.createParams())).toList();
    }
}
