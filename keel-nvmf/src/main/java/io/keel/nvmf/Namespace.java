package io.keel.nvmf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevDesc;
import io.keel.core.rpc.Json;
import java.util.HexFormat;
import java.util.UUID;

/**
 * A namespace of an NVMe subsystem: a bdev opened read-write and claimed by the target on the application
 * thread (which owns it: events arrive and the descriptor closes there).
 */
public final class Namespace {
    private final NvmfSubsystem subsystem;
    private final long nsid;
    private final BdevDesc desc;
    private final byte[] nguid;
    private final byte[] eui64; // null when not set (all zero)
    private final UUID uuid;
    private final long anagrpid;
    private final boolean noAutoVisible;

    Namespace(NvmfSubsystem subsystem, long nsid, BdevDesc desc, byte[] nguid, byte[] eui64, UUID uuid, long anagrpid,
            boolean noAutoVisible) {
        this.subsystem = subsystem;
        this.nsid = nsid;
        this.desc = desc;
        this.nguid = nguid;
        this.eui64 = eui64;
        this.uuid = uuid;
        this.anagrpid = anagrpid;
        this.noAutoVisible = noAutoVisible;
    }

    public NvmfSubsystem subsystem() {
        return subsystem;
    }

    public long nsid() {
        return nsid;
    }

    public BdevDesc desc() {
        return desc;
    }

    public String bdevName() {
        return desc.bdev().name();
    }

    public UUID uuid() {
        return uuid;
    }

    public byte[] nguid() {
        return nguid.clone();
    }

    /** The EUI-64, or null when none was set. */
    public byte[] eui64() {
        return eui64 == null ? null : eui64.clone();
    }

    /** Closes the descriptor, releasing the claim (application thread; idempotent). */
    void close() {
        desc.close();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().withUpperCase().formatHex(b);
    }

    /** As {@code nvmf_get_subsystems} lists it. */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("nsid", nsid);
        o.put("bdev_name", bdevName());
        o.put("name", bdevName());
        o.put("nguid", hex(nguid));
        if (eui64 != null) {
            o.put("eui64", hex(eui64));
        }
        o.put("uuid", uuid.toString());
        if (subsystem.anaReporting()) {
            o.put("anagrpid", anagrpid);
        }
        return o;
    }

    /** The {@code namespace} object of the saved {@code nvmf_subsystem_add_ns}. */
    ObjectNode config() {
        ObjectNode o = Json.object();
        o.put("nsid", nsid);
        o.put("bdev_name", bdevName());
        o.put("nguid", hex(nguid));
        if (eui64 != null) {
            o.put("eui64", hex(eui64));
        }
        o.put("uuid", uuid.toString());
        if (subsystem.anaReporting()) {
            o.put("anagrpid", anagrpid);
        }
        o.put("no_auto_visible", noAutoVisible);
        return o;
    }
}
