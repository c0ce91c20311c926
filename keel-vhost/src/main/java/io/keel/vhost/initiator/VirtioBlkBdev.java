package io.keel.vhost.initiator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import io.keel.vhost.blk.VirtioBlkFeatures;
import java.util.EnumSet;
import java.util.Set;

/**
 * A virtio-blk device behind a vhost-user socket as a bdev named as its controller (SPDK's {@code virtio_blk_dev}):
 * "VirtioBlk Disk", the device's block size and capacity, and the I/O types its features allow. Its per-thread
 * context is a {@link VirtioBlkChannel} with a virtqueue of its own.
 */
final class VirtioBlkBdev extends Bdev {
    private final VirtioBdevModule module;
    private final VirtioUserController controller;
    private final IoDevice<VirtioBlkChannel> channels;

    VirtioBlkBdev(VirtioBdevModule module, VirtioUserController controller, BlkGeometry g) {
        super(controller.name(), null, "VirtioBlk Disk", g.blockSize(), g.numBlocks(), ioTypes(g));
        this.module = module;
        this.controller = controller;
        channels = IoDevice.register("virtio_blk_" + controller.name(), t -> new VirtioBlkChannel(controller, t),
                VirtioBlkChannel::destroy);
    }

    private static Set<IoType> ioTypes(BlkGeometry g) {
        EnumSet<IoType> t = EnumSet.of(IoType.READ);
        if (!g.has(VirtioBlkFeatures.RO)) {
            t.add(IoType.WRITE);
            if (g.has(VirtioBlkFeatures.DISCARD)) {
                t.add(IoType.UNMAP);
            }
            if (g.has(VirtioBlkFeatures.WRITE_ZEROES)) {
                t.add(IoType.WRITE_ZEROES);
            }
        }
        if (g.has(VirtioBlkFeatures.FLUSH)) {
            t.add(IoType.FLUSH);
        }
        return t;
    }

    IoDevice<VirtioBlkChannel> channels() {
        return channels;
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
        VirtioBlkChannel ch = io.moduleChannel();
        ch.submit(io);
    }

    /** Every channel is gone: the controller lets go of the io_device, the back end and its memory, then {@code done}. */
    @Override
    protected void destruct(Runnable done) {
        controller.destruct(channels, done);
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        o.set("virtio", controller.describe());
        return o;
    }
}
