package io.keel.bdev.passthru;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.VirtualBdev;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevModule;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.IoDevice;
import java.util.UUID;

/**
 * A passthru bdev (SPDK's {@code vbdev_passthru}): a virtual bdev with its base's geometry and I/O types that
 * passes every I/O down to the base and completes it as the base did. It does nothing else, which is what
 * makes it the template for virtual bdevs: what a new one needs is all here.
 *
 * <ul>
 * <li><b>Base.</b> The module opened the base for writing and claimed it ({@link PassthruModule}) on the
 * application thread; this bdev keeps that descriptor until it is destructed.</li>
 * <li><b>Per-thread context.</b> Its own io_device: on each thread that uses this bdev, the context holds that
 * thread's channel to the base (taken in the create callback, put in destroy), so an I/O goes down on the
 * thread that submitted it, with no message and no lock.</li>
 * <li><b>Per-I/O state.</b> None allocated: the child I/O's callback argument is the parent I/O, and a module
 * that needs more uses {@link BdevIo#moduleContext}, {@link BdevIo#moduleValue} and {@link BdevIo#moduleNext}.</li>
 * <li><b>Teardown.</b> Unregistered by {@code bdev_passthru_delete} or when the base goes away (REMOVE); once
 * its descriptors and channels are gone, {@link #destruct} waits for the per-thread contexts to release their
 * base channels, then closes the base descriptor on the thread that opened it, which lets the base's own
 * removal finish.</li>
 * </ul>
 */
final class PassthruBdev extends VirtualBdev {
    /** Non-capturing, so one instance serves every I/O. */
    private static final BdevIoCallback CHILD_DONE = PassthruBdev::childDone;

    private final PassthruModule module;
    private final IoDevice<PassthruChannel> channels;

    PassthruBdev(PassthruModule module, String name, UUID uuid, BdevDesc base) {
        super(name, uuid, "passthru", base);
        this.module = module;
        this.channels = IoDevice.register("passthru_" + name, t -> new PassthruChannel(base), PassthruChannel::destroy);
    }

    /** One thread's context: its channel to the base bdev. Created and destroyed on that thread. */
    static final class PassthruChannel {
        private final IoChannel<BdevChannel> baseChannel;

        PassthruChannel(BdevDesc base) {
            this.baseChannel = base.getIoChannel();
        }

        BdevChannel base() {
            return baseChannel.context();
        }

        void destroy() {
            baseChannel.put();
        }
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
        PassthruChannel ch = io.moduleChannel();
        int rc = base.forward(ch.base(), io, CHILD_DONE, io);
        if (rc == -Errno.ENOMEM) {
            io.complete(BdevIoStatus.NOMEM); // no bdev_io for the child now: the layer resubmits this one later
        } else if (rc != 0) {
            io.complete(BdevIoStatus.FAILED);
        }
    }

    /** The base finished the child: end the parent the same way (on the submitting thread, where both live). */
    private static void childDone(BdevIo child, boolean success, Object arg) {
        BdevIo parent = (BdevIo) arg;
        BdevIoStatus status = child.status();
        int sct = child.nvmeSct();
        int sc = child.nvmeSc();
        child.free();
        if (status == BdevIoStatus.NVME_ERROR) {
            parent.completeNvme(sct, sc);
        } else {
            parent.complete(status);
        }
    }

    @Override
    protected void destruct(Runnable done) {
        // every channel of ours is gone; wait until their contexts have put the base channels, then let go of the base
        channels.unregister(() -> base.thread().send(() -> {
            module.forget(this);
            base.close(); // releases the claim; the base may now finish its own removal
            done.run();
        }));
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        ObjectNode pt = o.putObject("passthru");
        pt.put("name", name());
        pt.put("base_bdev_name", base.bdev().name());
        return o;
    }

    /** The parameters of {@code bdev_passthru_create} that recreate this bdev (SPDK's order). */
    ObjectNode createParams() {
        ObjectNode p = Json.object();
        p.put("base_bdev_name", base.bdev().name());
        p.put("name", name());
        p.put("uuid", uuid().toString());
        return p;
    }
}
