package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import io.keel.nvme.host.ControllerData;
import io.keel.nvme.spec.IdentifyController;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One namespace of a named controller as a bdev, {@code <name>n<nsid>} (SPDK's {@code nvme_bdev}): one path per
 * controller of the name that has the namespace. Its per-thread context ({@link NvmeBdevChannel}) picks a path for
 * each I/O and holds what waits for one. Paths come and go on the application thread; the channels follow by
 * message.
 */
final class NvmeBdev extends Bdev {
    private final NvmeBdevModule module;
    private final NvmeBdevCtrlr group;
    private final int nsid;
    private final List<NvmeNs> paths = new CopyOnWriteArrayList<>();
    private final IoDevice<NvmeBdevChannel> channels;
    /** Fewest blocks any path takes in one read or write (MDTS), or Long.MAX_VALUE. */
    private volatile long maxTransferBlocks;
    private volatile boolean removing;
    private volatile String policy;
    private volatile String selector = "round_robin";
    private volatile int rrMinIo = 1;

    NvmeBdev(NvmeBdevModule module, NvmeBdevCtrlr group, NvmeNs first) {
        super(group.name() + "n" + first.nsid(), first.data().uuid(), "NVMe disk", first.data().blockSize(),
                first.data().blocks(), ioTypes(first.ctrlr().data()));
        this.module = module;
        this.group = group;
        this.nsid = first.nsid();
        paths.add(first);
        policy = module.options().multipathOpts().policy();
        maxTransferBlocks = transferLimit(first);
        writeCache(first.ctrlr().data().volatileWriteCache());
        optimalIoBoundary(first.data().optimalIoBoundary());
        channels = IoDevice.register("nvme_bdev_" + name(), t -> new NvmeBdevChannel(this, t),
                NvmeBdevChannel::destroy);
    }

    private static Set<IoType> ioTypes(ControllerData d) {
        EnumSet<IoType> t = EnumSet.of(IoType.READ, IoType.WRITE, IoType.FLUSH, IoType.RESET);
        if (d.supports(IdentifyController.ONCS_DSM)) {
            t.add(IoType.UNMAP);
        }
        if (d.supports(IdentifyController.ONCS_WRITE_ZEROES)) {
            t.add(IoType.WRITE_ZEROES);
        }
        if (d.supports(IdentifyController.ONCS_COMPARE)) {
            t.add(IoType.COMPARE);
        }
        return t;
    }

    private long transferLimit(NvmeNs ns) {
        long mdts = ns.ctrlr().data().maxTransferBytes();
        long transport = ns.ctrlr().config().transport().maxTransferBytes();
        long bytes = mdts == 0 ? transport : transport == 0 ? mdts : Math.min(mdts, transport);
        return bytes == 0 ? Long.MAX_VALUE : bytes / blockSize();
    }

    NvmeBdevModule nvmeModule() {
        return module;
    }

    int nsid() {
        return nsid;
    }

    NvmeBdevCtrlr group() {
        return group;
    }

    List<NvmeNs> paths() {
        return paths;
    }

    NvmeNs pathOf(NvmeCtrlr c) {
        for (NvmeNs p : paths) {
            if (p.ctrlr() == c) {
                return p;
            }
        }
        return null;
    }

    long maxTransferBlocks() {
        return maxTransferBlocks;
    }

    boolean removing() {
        return removing;
    }

    void removing(boolean v) {
        removing = v;
    }

    /** Whether flushes go to the device: SPDK sends them only when asked to and a write cache is there. */
    boolean flushGoesToDevice() {
        return module.options().enableFlush() && writeCache();
    }

    boolean activeActive() {
        return policy.equals("active_active");
    }

    String policy() {
        return policy;
    }

    String selector() {
        return selector;
    }

    int rrMinIo() {
        return rrMinIo;
    }

    /** {@code bdev_nvme_set_multipath_policy}: the channels use it from their next I/O on. */
    void policy(String p, String s, int rr) {
        selector = s;
        rrMinIo = rr;
        policy = p;
    }

    /** Adds a path (application thread); every thread's channel takes it before {@code done} runs. */
    void addPath(NvmeNs ns, Runnable done) {
        paths.add(ns);
        maxTransferBlocks = Math.min(maxTransferBlocks, transferLimit(ns));
        channels.forEachChannel((it, ch) -> {
            ch.context().addPath(ns);
            it.next(0);
        }, rc -> done.run());
    }

    /** Removes a path (application thread); every thread's channel lets go of it before {@code done} runs. */
    void removePath(NvmeNs ns, Runnable done) {
        paths.remove(ns);
        channels.forEachChannel((it, ch) -> {
            ch.context().removePath(ns);
            it.next(0);
        }, rc -> done.run());
    }

    @Override
    public BdevModule module() {
        return module;
    }

    @Override
    protected IoDevice<?> moduleDevice() {
        return channels;
    }

    @Override
    protected void submit(BdevIo io) {
        NvmeBdevChannel ch = io.moduleChannel();
        ch.submit(io);
    }

    @Override
    protected void destruct(Runnable done) {
        group.thread().send(() -> {
            group.bdevGone(this);
            channels.unregister(rc -> done.run());
        });
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        ArrayNode nvme = o.putArray("nvme");
        for (NvmeNs p : paths) {
            ObjectNode n = nvme.addObject();
            n.set("trid", p.ctrlr().tridJson());
            ControllerData d = p.ctrlr().data();
            ObjectNode c = n.putObject("ctrlr_data");
            c.put("cntlid", d.cntlid());
            c.put("vendor_id", String.format("0x%04x", d.vid()));
            c.put("model_number", d.modelNumber());
            c.put("serial_number", d.serialNumber());
            c.put("firmware_revision", d.firmwareRevision());
            c.put("subnqn", d.subnqn());
            ObjectNode oacs = c.putObject("oacs");
            oacs.put("security", d.oacs() & 1);
            oacs.put("format", d.oacs() >>> 1 & 1);
            oacs.put("firmware", d.oacs() >>> 2 & 1);
            oacs.put("ns_manage", d.oacs() >>> 3 & 1);
            c.put("multi_ctrlr", d.multiController());
            c.put("ana_reporting", d.anaReporting());
            n.putObject("vs").put("nvme_version", d.version());
            ObjectNode ns = n.putObject("ns_data");
            ns.put("id", p.nsid());
            ns.put("can_share", p.data().shared());
        }
        o.put("mp_policy", policy);
        return o;
    }
}
