package io.keel.nvmf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevDesc;
import io.keel.core.rpc.Json;
import io.keel.core.thread.KeelThread;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A namespace of an NVMe subsystem: a bdev opened read-write and claimed by the target on the application
 * thread (which owns it: events arrive and the descriptor closes there).
 *
 * <p>The I/O queues' threads take channels of the descriptor and count them here; a namespace that is removed
 * while some are still held (commands in flight on a queue that outlived the drain bound, or on a queue still
 * closing) closes its descriptor — releasing its write claim — only when the last channel is put, never under
 * a write in flight.
 */
public final class Namespace {
    private static final Logger LOG = LoggerFactory.getLogger(Namespace.class);

    private final NvmfSubsystem subsystem;
    private final long nsid;
    private final BdevDesc desc;
    private final byte[] nguid;
    private final byte[] eui64; // null when not set (all zero)
    private final UUID uuid;
    private final long anagrpid;
    private final boolean noAutoVisible;
    private final KeelThread owner;
    /** Channels of {@link #desc} the I/O queues hold now (any thread). */
    private final AtomicInteger channels = new AtomicInteger();
    private volatile boolean closing;
    private boolean closed;

    Namespace(KeelThread owner, NvmfSubsystem subsystem, long nsid, BdevDesc desc, byte[] nguid, byte[] eui64,
            UUID uuid, long anagrpid, boolean noAutoVisible) {
        this.owner = owner;
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

    /** An I/O queue's thread took a channel of the descriptor (any thread). */
    public void channelTaken() {
        channels.incrementAndGet();
    }

    /** An I/O queue's thread put its channel back; the last one of a closing namespace lets the descriptor close. */
    public void channelPut() {
        if (channels.decrementAndGet() == 0 && closing) {
            owner.send(this::closeDescriptor);
        }
    }

    /**
     * Closes the descriptor, releasing the claim — now, or once the channels still held are put (application
     * thread; idempotent).
     */
    void close() {
        closing = true;
        int held = channels.get();
        if (held == 0) {
            closeDescriptor();
        } else {
            LOG.info("nvmf: namespace {} of {} ({}) removed; its bdev is released once {} I/O queue channel(s) "
                    + "finish their commands", nsid, subsystem.nqn(), bdevName(), held);
        }
    }

    /** Whether the descriptor is closed (its claim released). */
    boolean released() {
        return closed;
    }

    private void closeDescriptor() {
        if (!closed) {
            closed = true;
            desc.close();
        }
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
