package io.keel.vhost.initiator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.blk.VirtioBlkConfig;
import io.keel.vhost.blk.VirtioBlkFeatures;
import io.keel.vhost.virtio.VirtioFeatures;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code bdev_virtio_attach_controller} with trtype user and dev_type blk: a vhost-user front end to the socket
 * at {@code traddr}, the memory shared with the back end, its virtqueues, and the bdev that serves the device. Owned
 * by the application thread (every method runs there but {@link #acquireQueue}/{@link #releaseQueue}, which channels
 * call on theirs).
 *
 * <p>States: ATTACHING (the front end negotiates, then the queues are set up; a failure at any step releases
 * everything and answers the attach with the reason) → ACTIVE (the bdev is registered) → REMOVING (detached, or the
 * back end went away: in-flight I/O failed on each channel's thread, the bdev hot-removed) → DETACHED (the bdev
 * destructed: socket closed, eventfds closed, shared memory unmapped, all on this thread).
 */
final class VirtioUserController {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioUserController.class);
    /** The virtio-blk features Keel's initiator takes when offered. */
    static final long WANTED_FEATURES = VirtioFeatures.bit(VirtioFeatures.VERSION_1)
            | 1L << VirtioBlkFeatures.SIZE_MAX | 1L << VirtioBlkFeatures.SEG_MAX | 1L << VirtioBlkFeatures.BLK_SIZE
            | 1L << VirtioBlkFeatures.RO | 1L << VirtioBlkFeatures.FLUSH | 1L << VirtioBlkFeatures.MQ
            | 1L << VirtioBlkFeatures.DISCARD | 1L << VirtioBlkFeatures.WRITE_ZEROES;

    enum State { ATTACHING, ACTIVE, REMOVING, DETACHED }

    /** The attach's answer: 0 and the bdev's name, or -errno and why. */
    interface AttachDone {
        void attached(int negErrno, String detail);
    }

    private final VirtioBdevModule module;
    private final String name;
    private final String path;
    private final int vqCount;
    private final int vqSize;
    private final KeelThread owner;
    private final BdevLayer layer;
    private final boolean interruptMode;
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final VhostUserFrontEnd frontEnd;
    private State state = State.ATTACHING;
    private AttachDone attachDone;
    private volatile boolean gone;
    private SharedRegion region;
    private BlkQueue[] queues = new BlkQueue[0];
    private AtomicIntegerArray taken = new AtomicIntegerArray(0);
    private BlkGeometry geometry;
    private VirtioBlkBdev bdev;

    VirtioUserController(VirtioBdevModule module, String name, String path, int vqCount, int vqSize, KeelThread owner,
            BdevLayer layer, boolean interruptMode) {
        this.module = module;
        this.name = name;
        this.path = path;
        this.vqCount = vqCount;
        this.vqSize = vqSize;
        this.owner = owner;
        this.layer = layer;
        this.interruptMode = interruptMode;
        this.frontEnd = new VhostUserFrontEnd(name, path, owner, new FrontEndEvents());
    }

    String name() {
        return name;
    }

    State state() {
        return state;
    }

    boolean interruptMode() {
        return interruptMode;
    }

    boolean gone() {
        return gone;
    }

    int queueCount() {
        return queues.length;
    }

    // ---- attach ----

    void attach(AttachDone done) {
        attachDone = done;
        frontEnd.negotiate(VirtioBlkConfig.BYTES);
    }

    private final class FrontEndEvents implements VhostUserFrontEnd.Listener {
        @Override
        public void phaseDone() {
            if (frontEnd.state() == VhostUserFrontEnd.State.NEGOTIATED) {
                setUpQueues();
            } else {
                registerBdev();
            }
        }

        @Override
        public void failed(int negErrno, String why) {
            attachFailed(negErrno, why);
        }

        @Override
        public void gone(String why) {
            backEndGone(why);
        }
    }

    /** Decides the features, queues and memory from what the back end said, and hands them over. */
    private void setUpQueues() {
        long features = WANTED_FEATURES & frontEnd.offeredFeatures();
        try {
            geometry = BlkGeometry.of(new VirtioBlkConfig(frontEnd.config()), features);
        } catch (IllegalArgumentException e) {
            attachFailed(-Errno.EIO, "the device's config space: " + e.getMessage());
            return;
        }
        if (vqSize < geometry.descriptorsPerRequest()) {
            attachFailed(-Errno.EINVAL, "vq_size " + vqSize + " cannot hold one request of "
                    + geometry.descriptorsPerRequest() + " descriptors");
            return;
        }
        int n = Math.min(vqCount, geometry.deviceQueues());
        if (frontEnd.queueNum() > 0) {
            n = Math.min(n, frontEnd.queueNum());
        }
        if (n < vqCount) {
            LOG.warn("virtio {}: asked for {} queues, the device at {} has {}", name, vqCount, path, n);
        }
        long perQueue = BlkQueue.bytes(vqSize, geometry);
        List<VhostUserFrontEnd.QueueSetup> setups = new ArrayList<>(n);
        try {
            region = SharedRegion.create(name, perQueue * n, callState);
            queues = new BlkQueue[n];
            for (int q = 0; q < n; q++) {
                int kick = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
                int call = kick < 0 ? kick : EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
                if (kick < 0 || call < 0) {
                    Libc.closeQuietly(kick);
                    throw new IllegalStateException("eventfd: " + Libc.strerror(-Math.min(kick, call)));
                }
                queues[q] = new BlkQueue(q, vqSize, geometry, region, perQueue * q, kick, call, Libc.callState(arena),
                        arena.allocate(EventFd.COUNT_BYTES, 8), !interruptMode);
                setups.add(new VhostUserFrontEnd.QueueSetup(vqSize, queues[q].descAddr(), queues[q].availAddr(),
                        queues[q].usedAddr(), kick, call));
            }
        } catch (IllegalStateException e) {
            attachFailed(-Errno.ENOMEM, e.getMessage());
            return;
        }
        taken = new AtomicIntegerArray(n);
        frontEnd.start(features, region.spec(), region.fd(), setups);
    }

    private void registerBdev() {
        if (state != State.ATTACHING) {
            return;
        }
        VirtioBlkBdev b = new VirtioBlkBdev(module, this, geometry);
        try {
            layer.register(b);
        } catch (BdevException e) {
            b.channels().unregister(rc -> { });
            attachFailed(e.errno(), e.getMessage());
            return;
        }
        bdev = b;
        state = State.ACTIVE;
        LOG.info("virtio {}: attached to {}: {} blocks of {} bytes, {} queue(s) of {} entries", name, path,
                geometry.numBlocks(), geometry.blockSize(), queues.length, vqSize);
        answerAttach(0, name);
    }

    private void attachFailed(int negErrno, String why) {
        if (state != State.ATTACHING) {
            return;
        }
        LOG.error("virtio {}: attach to {} failed: {}", name, path, why);
        release();
        module.forget(this);
        answerAttach(negErrno, why);
    }

    private void answerAttach(int rc, String detail) {
        AttachDone d = attachDone;
        attachDone = null;
        if (d != null) {
            d.attached(rc, detail);
        }
    }

    // ---- queues, for channels (any thread) ----

    /** A queue no channel holds, now held by the caller; null if all are taken. */
    BlkQueue acquireQueue() {
        for (int q = 0; q < queues.length; q++) {
            if (taken.compareAndSet(q, 0, 1)) {
                return queues[q];
            }
        }
        return null;
    }

    /** Queues held by channels now. */
    int queuesInUse() {
        int n = 0;
        for (int q = 0; q < taken.length(); q++) {
            n += taken.get(q);
        }
        return n;
    }

    /** Gives {@code q} back: its ring state goes with it to the next channel that takes it. */
    void releaseQueue(BlkQueue q) {
        taken.set(q.index, 0);
    }

    // ---- detach and removal ----

    /**
     * {@code bdev_virtio_detach_controller}: an attach under way is given up (it answers -ECANCELED); an attached
     * controller's bdev is hot-removed (open descriptors hear REMOVE, I/O in flight ends first). {@code done} hears 0
     * or the removal's -errno once it is over.
     */
    void detach(IntConsumer done) {
        switch (state) {
            case ATTACHING -> {
                attachFailed(-Errno.ECANCELED, "detached while attaching");
                done.accept(0);
            }
            case ACTIVE, REMOVING -> {
                state = State.REMOVING;
                layer.unregister(bdev, done);
            }
            case DETACHED -> done.accept(0);
            default -> throw new IllegalStateException(state.toString());
        }
    }

    /** The back end closed the socket: I/O in flight fails on each channel's thread, then the bdev goes. */
    private void backEndGone(String why) {
        if (state != State.ACTIVE) {
            return;
        }
        LOG.error("virtio {}: the back end at {} went away ({}): failing I/O in flight, removing bdev {}", name, path,
                why, name);
        gone = true;
        state = State.REMOVING;
        bdev.channels().forEachChannel((it, ch) -> {
            ch.context().failAll();
            it.next(0);
        }, rc -> layer.unregister(bdev, r -> { }));
    }

    /** The bdev's destruct: every channel is gone; the io_device, the session and the memory go, on this thread. */
    void destruct(IoDevice<VirtioBlkChannel> channels, Runnable done) {
        owner.send(() -> channels.unregister(rc -> {
            release();
            module.forget(this);
            LOG.info("virtio {}: detached from {}", name, path);
            done.run();
        }));
    }

    /** Closes the session and frees what the controller holds (idempotent). Owner thread. */
    private void release() {
        if (state == State.DETACHED) {
            return;
        }
        state = State.DETACHED;
        frontEnd.close();
        for (BlkQueue q : queues) {
            if (q != null) { // null: setting up failed before this queue
                q.closeFds();
            }
        }
        if (region != null) {
            region.release(callState);
        }
        arena.close();
    }

    // ---- descriptions ----

    /** SPDK's {@code virtio_dev_dump_json_info} for a virtio-user device. */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("vq_count", queues.length);
        o.put("vq_size", vqSize);
        o.put("type", "user");
        o.put("socket", path);
        return o;
    }

    /** What {@code save_config} writes to attach it again. */
    ObjectNode attachParams() {
        ObjectNode p = Json.object();
        p.put("name", name);
        p.put("dev_type", "blk");
        p.put("trtype", "user");
        p.put("traddr", path);
        p.put("vq_count", queues.length);
        p.put("vq_size", vqSize);
        return p;
    }
}
