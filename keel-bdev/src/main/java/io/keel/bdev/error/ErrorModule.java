package io.keel.bdev.error;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.IoType;
import io.keel.bdev.Uuids;
import io.keel.bdev.VirtualBdevModule;
import io.keel.core.app.ConfigEntry;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.UUID;

/**
 * The error module (SPDK's {@code vbdev_error}): {@code bdev_error_create}, {@code bdev_error_delete},
 * {@code bdev_error_inject_error}, {@code bdev_error_resume_pending}. Application thread throughout.
 *
 * <p>As SPDK: create records a config (base name, uuid) and builds "EE_&lt;base&gt;" at once, or when the base
 * registers ({@link VirtualBdevModule}); the config goes when the error bdev is destructed (delete or base removal),
 * and {@code save_config} writes the configs, not the injections, which are runtime state.
 */
public final class ErrorModule extends VirtualBdevModule<ErrorModule.CreateParams, ErrorBdev> {
    /** SPDK's BDEV_PART_NAMESPACE_UUID: an error bdev is a part of its base, uuid5(this, base uuid, range). */
    private static final UUID PART_NAMESPACE = UUID.fromString("976b899e-3e1e-4d71-ab69-c2b08e9df8b8");
    private static final String PREFIX = "EE_";
    private static final long UINT32_MAX = 0xFFFF_FFFFL;
    private static final List<String> IO_TYPES = List.of("clear", "read", "write", "unmap", "flush", "all");

    /** Also the config kept until the error bdev is destructed. */
    record CreateParams(@JsonProperty(required = true) String baseName, UUID uuid) implements Association {
        @Override
        public String name() {
            return PREFIX + baseName;
        }

        @Override
        public List<String> baseBdevNames() {
            return List.of(baseName);
        }
    }

    record InjectParams(@JsonProperty(required = true) String name, @JsonProperty(required = true) String ioType,
            @JsonProperty(required = true) String errorType, Long nvmeSct, Long nvmeSc, Long num, Long queueDepth,
            Long corruptOffset, Long corruptValue) {
    }

    record ResumeParams(@JsonProperty(required = true) String name) {
    }

    private ErrorModule(BdevLayer layer) {
        super(layer, "error", "error bdev", Lifetime.UNTIL_DESTRUCT);
    }

    public static void register(KeelApp app, BdevLayer layer) {
        ErrorModule m = new ErrorModule(layer);
        layer.addModule(m);
        app.methods().register("bdev_error_create", CreateParams.class, (p, call) -> {
            m.create(p);
            call.respond(true);
        });
        m.registerDelete(app, "bdev_error_delete");
        app.methods().register("bdev_error_inject_error", InjectParams.class, (p, call) -> {
            m.inject(p);
            call.respond(true);
        });
        app.methods().register("bdev_error_resume_pending", ResumeParams.class, (p, call) -> {
            m.resume(p);
            call.respond(true);
        });
    }

    // ---- RPCs ----

    private void inject(InjectParams p) {
        if (!IO_TYPES.contains(p.ioType())) {
            throw RpcException.invalidParams("io_type must be one of " + IO_TYPES + ", not '" + p.ioType() + "'");
        }
        ErrorType type = ErrorType.fromWire(p.errorType());
        if (type == null) {
            throw RpcException.invalidParams("error_type must be failure, pending, corrupt_data, nomem or nvme_failure, not '"
                    + p.errorType() + "'");
        }
        long num = p.num() == null ? 1 : p.num();
        long sct = p.nvmeSct() == null ? 0 : p.nvmeSct();
        long sc = p.nvmeSc() == null ? 0 : p.nvmeSc();
        long queueDepth = p.queueDepth() == null ? 0 : p.queueDepth();
        long corruptOffset = p.corruptOffset() == null ? 0 : p.corruptOffset();
        long corruptValue = p.corruptValue() == null ? 0 : p.corruptValue();
        checkRange("num", num, UINT32_MAX);
        checkRange("nvme_sct", sct, UINT32_MAX);
        checkRange("nvme_sc", sc, UINT32_MAX);
        checkRange("queue_depth", queueDepth, Long.MAX_VALUE);
        checkRange("corrupt_offset", corruptOffset, Long.MAX_VALUE);
        checkRange("corrupt_value", corruptValue, 255);
        boolean nvme = type == ErrorType.NVME_FAILURE;
        if (nvme == (sct == 0 && sc == 0)) {
            throw RpcException.errno(Errno.EINVAL, "nvme_sct or nvme_sc should be specified for NVMe error injection");
        }
        if (type == ErrorType.CORRUPT_DATA && corruptValue == 0) {
            throw RpcException.errno(Errno.EINVAL, "Invalid argument"); // XOR with 0 corrupts nothing
        }
        ErrorBdev b = find(p.name());
        if (b == null) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        for (IoType t : new IoType[] {IoType.READ, IoType.WRITE, IoType.UNMAP, IoType.FLUSH}) {
            ErrorBdev.Injection inj = b.injection(t);
            switch (p.ioType()) {
                case "clear" -> inj.num.set(0);
                case "all" -> set(inj, type, num, queueDepth, corruptOffset, corruptValue, sct, sc);
                default -> {
                    if (t.wireName().equals(p.ioType())) {
                        set(inj, type, num, queueDepth, corruptOffset, corruptValue, sct, sc);
                    }
                }
            }
        }
        log.info("error bdev {}: {} {} x{} (queue depth {})", b.name(), p.ioType(), type.wireName(), num, queueDepth);
    }

    private static void set(ErrorBdev.Injection inj, ErrorType type, long num, long queueDepth, long corruptOffset,
            long corruptValue, long sct, long sc) {
        inj.num.set(0); // no I/O takes a half-written injection; num, written last, arms it
        inj.type = type;
        inj.queueDepth = queueDepth;
        inj.corruptOffset = corruptOffset;
        inj.corruptValue = (int) corruptValue;
        inj.nvmeSct = (int) sct;
        inj.nvmeSc = (int) sc;
        inj.num.set(num);
    }

    private static void checkRange(String param, long value, long max) {
        if (value < 0 || value > max) {
            throw RpcException.invalidParams(param + " must be between 0 and " + max + ", not " + value);
        }
    }

    /** As SPDK: pending injections end, and the I/O they hold is submitted again. */
    private void resume(ResumeParams p) {
        ErrorBdev b = find(p.name());
        if (b == null) {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        }
        for (IoType t : new IoType[] {IoType.READ, IoType.WRITE, IoType.UNMAP, IoType.FLUSH}) {
            ErrorBdev.Injection inj = b.injection(t);
            if (inj.type == ErrorType.PENDING) {
                inj.num.set(0);
            }
        }
        b.resumeAllPending();
    }

    // ---- bdevs ----

    @Override
    protected ErrorBdev newBdev(CreateParams c, List<BdevDesc> bases) {
        Bdev base = bases.getFirst().bdev();
        UUID uuid = c.uuid() != null ? c.uuid() : partUuid(base.uuid(), 0, base.numBlocks());
        return new ErrorBdev(this, c.name(), uuid, bases.getFirst());
    }

    /** Held I/O ends ABORTED before the error bdev goes, so a user draining its I/O never waits for it. */
    @Override
    protected void beforeUnregister(ErrorBdev b) {
        b.abortAllPending();
    }

    @Override
    public List<ConfigEntry> config() {
        return associations().stream().map(c -> {
            ObjectNode p = Json.object();
            p.put("base_name", c.baseName());
            if (c.uuid() != null) {
                p.put("uuid", c.uuid().toString());
            }
            return new ConfigEntry("bdev_error_create", p);
        }).toList();
    }

    /** spdk_bdev_part_construct's uuid: uuid5(namespace, base uuid bytes, offset and size as little-endian u64). */
    static UUID partUuid(UUID baseUuid, long offsetBlocks, long numBlocks) {
        ByteBuffer name = ByteBuffer.allocate(32);
        name.put(Uuids.bytes(baseUuid));
        name.order(ByteOrder.LITTLE_ENDIAN).putLong(offsetBlocks).putLong(numBlocks);
        return Uuids.uuid5(PART_NAMESPACE, name.array());
    }
}
