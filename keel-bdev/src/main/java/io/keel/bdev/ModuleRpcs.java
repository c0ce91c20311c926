package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcCall;
import java.util.function.Consumer;

/** What the modules' RPC methods share. */
public final class ModuleRpcs {
    private ModuleRpcs() {
    }

    /**
     * A module's {@code bdev_*_delete}: the named bdev must exist and be the module's (else -ENODEV
     * "No such device", as SPDK answers); it is hot-removed and the call answered true once it is gone.
     * Deleting a claimed bdev works as in SPDK: its claimant is told REMOVE and lets go.
     */
    public static void delete(BdevLayer layer, BdevModule module, String name, RpcCall call) {
        delete(layer, module, name, call, b -> { });
    }

    /** As {@link #delete(BdevLayer, BdevModule, String, RpcCall)}, running {@code first} on the bdev before it is removed. */
    public static void delete(BdevLayer layer, BdevModule module, String name, RpcCall call, Consumer<Bdev> first) {
        Bdev b = layer.get(name);
        if (b == null || b.module() != module || !b.name().equals(name)) {
            call.fail(-Errno.ENODEV, "No such device");
            return;
        }
        first.accept(b);
        layer.unregister(b, rc -> respond(call, b, rc));
    }

    /** Answers a delete: true once the bdev is gone, else the removal's error (it says what still holds it). */
    public static void respond(RpcCall call, Bdev b, int rc) {
        if (rc == 0) {
            call.respond(true);
        } else {
            call.fail(rc, "bdev " + b.name() + " was not removed in time: something still holds it (see the log)");
        }
    }

    /** Turns a layer refusal into the RPC error SPDK gives (negative errno, reason). */
    public static io.keel.core.rpc.RpcException error(BdevException e) {
        return io.keel.core.rpc.RpcException.errno(e.errno(), e.getMessage());
    }
}
