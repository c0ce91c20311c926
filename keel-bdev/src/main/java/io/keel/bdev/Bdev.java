package io.keel.bdev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A block device (SPDK's {@code spdk_bdev}), made by a module. The module supplies its geometry at
 * construction and implements {@link #submit}; the layer does validation, pooling, statistics, claims and
 * hot-remove around it.
 */
public abstract class Bdev {
    /** Where a bdev is in its life. */
    public enum State { NEW, REGISTERED, REMOVING, REMOVED }

    private final String name;
    private final UUID uuid;
    private final String productName;
    private final int blockSize;
    private volatile long numBlocks;
    /** Bit {@code t.ordinal()} set for each supported type: checked on every I/O. */
    private final long ioTypeBits;
    private final List<String> aliases = new CopyOnWriteArrayList<>();
    private final IoDevice<BdevChannel> channels;
    private final List<BdevDesc> descs = new CopyOnWriteArrayList<>();
    private final AtomicReference<BdevModule> claimedBy = new AtomicReference<>();
    private final RangeLocks rangeLocks = new RangeLocks(this);
    /** Statistics of channels already destroyed, folded in by the application thread. */
    final IoStats retiredStats = new IoStats();
    /** What destroyed channels left, queued by their threads as they go, before they leave the holders. */
    final java.util.concurrent.ConcurrentLinkedQueue<RetiredChannel> retiring = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** The last statistics of a destroyed channel. */
    record RetiredChannel(BdevChannel channel, IoStats stats) {
    }
    volatile State state = State.NEW;
    /** Set by whoever goes on with the removal once the last descriptor is gone (see BdevLayer). */
    private final AtomicBoolean removalFinishTaken = new AtomicBoolean();
    /** The layer that registered this bdev; set at registration. */
    volatile BdevLayer layer;
    private boolean writeCache;
    private int optimalIoBoundary;

    protected Bdev(String name, UUID uuid, String productName, int blockSize, long numBlocks, Set<IoType> ioTypes) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a bdev needs a name");
        }
        if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two of at least 512, not " + blockSize);
        }
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("a bdev needs at least one block");
        }
        this.name = name;
        this.uuid = uuid == null ? UUID.randomUUID() : uuid;
        this.productName = productName;
        this.blockSize = blockSize;
        this.numBlocks = numBlocks;
        long bits = 0;
        for (IoType t : ioTypes) {
            bits |= 1L << t.ordinal();
        }
        this.ioTypeBits = bits;
        this.aliases.add(this.uuid.toString());
        this.channels = IoDevice.registerDraining("bdev_" + name, t -> new BdevChannel(this, t), BdevChannel::release);
    }

    /** The module that made this bdev. */
    public abstract BdevModule module();

    /**
     * Runs {@code io} (on the submitting thread, with the module's per-thread context from
     * {@link #moduleDevice()}); the module completes it with {@link BdevIo#complete}, on this thread, now or later.
     * Only types in {@link #supportedIoTypes()} arrive here, already validated.
     */
    protected abstract void submit(BdevIo io);

    /** The module's io_device whose per-thread context {@link BdevIo#moduleChannel()} returns. */
    protected abstract IoDevice<?> moduleDevice();

    /**
     * Releases the module's resources once the bdev is unregistered and every descriptor has closed; call
     * {@code done} when finished (from any thread).
     */
    protected void destruct(Runnable done) {
        done.run();
    }

    /** Module-specific details for {@code bdev_get_bdevs} ({@code driver_specific}). */
    public JsonNode driverSpecific() {
        return Json.object();
    }

    // ---- geometry and identity ----

    public final String name() {
        return name;
    }

    public final UUID uuid() {
        return uuid;
    }

    public final String productName() {
        return productName;
    }

    public final int blockSize() {
        return blockSize;
    }

    public final long numBlocks() {
        return numBlocks;
    }

    public final long sizeBytes() {
        return numBlocks * blockSize;
    }

    public final boolean supports(IoType t) {
        return (ioTypeBits & 1L << t.ordinal()) != 0;
    }

    public final Set<IoType> supportedIoTypes() {
        EnumSet<IoType> types = EnumSet.noneOf(IoType.class);
        for (IoType t : IoType.values()) {
            if (supports(t)) {
                types.add(t);
            }
        }
        return types;
    }

    public final List<String> aliases() {
        return new ArrayList<>(aliases);
    }

    public boolean writeCache() {
        return writeCache;
    }

    protected void writeCache(boolean on) {
        writeCache = on;
    }

    public int optimalIoBoundary() {
        return optimalIoBoundary;
    }

    protected void optimalIoBoundary(int blocks) {
        optimalIoBoundary = blocks;
    }

    public final State state() {
        return state;
    }

    /** The module holding an exclusive-write claim, or null. */
    public final BdevModule claimedBy() {
        return claimedBy.get();
    }

    // ---- for the layer ----

    final IoDevice<BdevChannel> channelDevice() {
        return channels;
    }

    /** True for exactly one caller: the one that finishes this bdev's removal. */
    final boolean takeRemovalFinish() {
        return removalFinishTaken.compareAndSet(false, true);
    }

    final List<BdevDesc> descs() {
        return descs;
    }

    final RangeLocks rangeLocks() {
        return rangeLocks;
    }

    final boolean claim(BdevModule module) {
        return claimedBy.compareAndSet(null, module);
    }

    final void releaseClaim(BdevModule module) {
        claimedBy.compareAndSet(module, null);
    }

    /** Changes the size (a module's resize); descriptors are told RESIZE by the layer. */
    final void numBlocks(long blocks) {
        numBlocks = blocks;
    }

    final void runSubmit(BdevIo io) {
        submit(io);
    }

    final void runDestruct(Runnable done) {
        destruct(done);
    }

    /** For {@code bdev_get_bdevs}. */
    final ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("name", name);
        aliases.forEach(o.putArray("aliases")::add);
        o.put("product_name", productName);
        o.put("block_size", blockSize);
        o.put("num_blocks", numBlocks);
        o.put("uuid", uuid.toString());
        o.put("write_cache", writeCache);
        o.put("optimal_io_boundary", optimalIoBoundary);
        ObjectNode limits = o.putObject("assigned_rate_limits");
        for (String k : new String[] {"rw_ios_per_sec", "rw_mbytes_per_sec", "r_mbytes_per_sec", "w_mbytes_per_sec"}) {
            limits.put(k, 0);
        }
        BdevModule claimant = claimedBy.get();
        o.put("claimed", claimant != null);
        if (claimant != null) {
            o.put("claim_type", "exclusive_write");
        }
        o.put("zoned", false);
        ObjectNode types = o.putObject("supported_io_types");
        for (String k : IoType.SPDK_IO_TYPE_KEYS) {
            boolean has = false;
            for (IoType t : IoType.values()) {
                has |= supports(t) && t.wireName().equals(k);
            }
            types.put(k, has);
        }
        o.set("driver_specific", driverSpecific());
        return o;
    }

    @Override
    public String toString() {
        return "Bdev[" + name + "]";
    }
}
