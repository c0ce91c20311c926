package io.keel.bdev.malloc;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.DeferredCompletions;
import io.keel.bdev.ModuleRpcs;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.thread.IoDevice;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** The malloc module: {@code bdev_malloc_create}, {@code bdev_malloc_delete}. */
public final class MallocModule implements BdevModule {
    record CreateParams(String name, @JsonProperty(required = true) Long blockSize,
            @JsonProperty(required = true) Long numBlocks, UUID uuid, Integer optimalIoBoundary, Integer mdSize,
            Boolean mdInterleave, Integer difType, Boolean difIsHeadOfMd, Integer physicalBlockSize,
            Integer difPiFormat, Integer numaId) {
    }

    record DeleteParams(@JsonProperty(required = true) String name) {
    }

    private final BdevLayer layer;
    private final List<MallocBdev> bdevs = new CopyOnWriteArrayList<>();
    private final IoDevice<DeferredCompletions> channels =
            IoDevice.register("bdev_malloc", DeferredCompletions::new, DeferredCompletions::close);
    private int nextIndex;

    private MallocModule(BdevLayer layer) {
        this.layer = layer;
    }

    public static void register(KeelApp app, BdevLayer layer) {
        MallocModule m = addTo(layer);
        app.methods().register("bdev_malloc_create", CreateParams.class, (p, call) -> m.create(app, p, call));
        app.methods().register("bdev_malloc_delete", DeleteParams.class,
                (p, call) -> ModuleRpcs.delete(layer, m, p.name(), call));
    }

    /**
     * Adds the module to {@code layer} without its RPC methods, for a layer outside an application (the simulation),
     * which makes its bdevs with {@link #create(String, int, long)}.
     */
    public static MallocModule addTo(BdevLayer layer) {
        MallocModule m = new MallocModule(layer);
        layer.addModule(m);
        return m;
    }

    @Override
    public String name() {
        return "malloc";
    }

    IoDevice<DeferredCompletions> channels() {
        return channels;
    }

    /**
     * Validates and maps the memory here (fast), backs every page off the reactors (as SPDK's memset, but a
     * gigabyte of it must not stall the application thread), then registers the bdev back on the
     * application thread and answers with its name.
     */
    private void create(KeelApp app, CreateParams p, RpcCall call) {
        if (p.mdSize() != null && p.mdSize() != 0 || p.difType() != null && p.difType() != 0
                || Boolean.TRUE.equals(p.mdInterleave())) {
            throw RpcException.invalidParams("metadata and DIF are not supported by Keel's malloc bdev");
        }
        if (p.physicalBlockSize() != null && p.physicalBlockSize() != 0 && p.physicalBlockSize().longValue() != p.blockSize()) {
            throw RpcException.invalidParams("physical_block_size must equal block_size");
        }
        long bytes = p.blockSize() * p.numBlocks();
        if (p.numBlocks() <= 0 || p.blockSize() <= 0 || bytes / p.blockSize() != p.numBlocks()) {
            throw RpcException.invalidParams("num_blocks and block_size must be positive");
        }
        String name = p.name() != null ? p.name() : nextName();
        if (layer.get(name) != null) {
            throw RpcException.errno(io.keel.core.rpc.Errno.EEXIST, "bdev name " + name + " already exists");
        }
        MallocBdev b;
        try {
            b = new MallocBdev(this, name, p.uuid(), (int) (long) p.blockSize(), p.numBlocks(),
                    p.optimalIoBoundary() == null ? 0 : p.optimalIoBoundary());
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        } catch (OutOfMemoryError | IllegalStateException e) {
            throw RpcException.errno(io.keel.core.rpc.Errno.ENOMEM, "cannot allocate " + bytes + " bytes for " + name);
        }
        CompletableFuture.runAsync(b::backAllPages).whenComplete((ok, failure) -> app.onAppThread(() -> {
            if (failure != null) {
                b.destructNow();
                call.fail(-io.keel.core.rpc.Errno.ENOMEM, "cannot back " + bytes + " bytes for " + name + ": " + failure);
                return;
            }
            try {
                add(b);
            } catch (BdevException e) {
                call.fail(ModuleRpcs.error(e));
                return;
            }
            call.respond(name);
        }));
    }

    /**
     * Makes and registers a small malloc bdev at once, on the calling thread. Unlike {@code bdev_malloc_create} it
     * does not back every page first (that takes a helper OS thread, outside the simulation): pages are backed as
     * they are first written. Throws {@link BdevException} (-EEXIST) if the name is taken.
     */
    public Bdev create(String name, int blockSize, long numBlocks) {
        MallocBdev b = new MallocBdev(this, name, null, blockSize, numBlocks, 0);
        add(b);
        return b;
    }

    /** Registers a bdev made here; frees its memory if the layer refuses it. */
    private void add(MallocBdev b) {
        try {
            layer.register(b);
        } catch (BdevException e) {
            b.destructNow();
            throw e;
        }
        bdevs.add(b);
    }

    private String nextName() {
        String n;
        do {
            n = "Malloc" + nextIndex++;
        } while (layer.get(n) != null);
        return n;
    }

    void forget(MallocBdev b) {
        bdevs.remove(b);
    }

    @Override
    public List<ConfigEntry> config() {
        return bdevs.stream().map(b -> new ConfigEntry("bdev_malloc_create", b.createParams())).toList();
    }
}
