package io.keel.vhost.initiator;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.core.sys.Epoll;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's use of a virtio-blk bdev (SPDK's {@code bdev_virtio_blk_io_channel}): a virtqueue of its own, taken
 * from the controller at the thread's first I/O and given back when the channel goes, polled on this thread by an
 * active poller (poll mode) and on its call eventfd's watch (interrupt mode).
 *
 * <p>While every queue is held by other threads (more threads than queues, or a short-lived channel such as an
 * examine read still holding one) I/O is answered NOMEM, which the bdev layer re-drives on every poll, and the queue
 * is asked for again each time; after {@link #QUEUE_WAIT_NANOS} without one the I/O fails (logged once per channel)
 * rather than wait for ever. Owner thread only.
 */
final class VirtioBlkChannel {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlkChannel.class);
    /** How long I/O waits for a queue to come free. */
    static final long QUEUE_WAIT_NANOS = 1_000_000_000L;

    private final VirtioUserController controller;
    private final KeelThread thread;
    private BlkQueue queue;
    private Poller poller;
    private FdWatch callWatch;
    private long waitingSince;
    private boolean waitLogged;
    private boolean failed;

    VirtioBlkChannel(VirtioUserController controller, KeelThread thread) {
        this.controller = controller;
        this.thread = thread;
    }

    void submit(BdevIo io) {
        if (failed || controller.gone()) {
            io.complete(BdevIoStatus.FAILED);
            return;
        }
        if (queue == null && !takeQueue()) {
            waitForQueue(io);
            return;
        }
        if (!queue.submit(io)) {
            io.complete(BdevIoStatus.NOMEM); // every slot in flight: the bdev layer re-drives it
        }
    }

    private boolean takeQueue() {
        queue = controller.acquireQueue();
        if (queue == null) {
            return false;
        }
        waitingSince = 0;
        poller = thread.registerPoller("virtio_" + controller.name() + "_q" + queue.index, queue::poll);
        if (controller.interruptMode()) {
            callWatch = thread.watchFd(queue.callFd, Epoll.EPOLLIN, r -> queue.onCall());
        }
        return true;
    }

    private void waitForQueue(BdevIo io) {
        long now = thread.runtime().clock().nanoTime();
        if (waitingSince == 0) {
            waitingSince = now;
        }
        if (now - waitingSince < QUEUE_WAIT_NANOS) {
            io.complete(BdevIoStatus.NOMEM);
            return;
        }
        if (!waitLogged) {
            waitLogged = true;
            LOG.error("virtio {}: thread {} found all {} queues held by other threads for {} ms; its I/O fails",
                    controller.name(), thread.name(), controller.queueCount(), QUEUE_WAIT_NANOS / 1_000_000);
        }
        io.complete(BdevIoStatus.FAILED);
    }

    /** The back end went away: what is in flight fails now, what comes later fails at once. */
    void failAll() {
        failed = true;
        if (queue != null) {
            queue.failAll();
        }
    }

    /** The channel goes (nothing in flight: the bdev layer waited for it); its queue returns to the controller. */
    void destroy() {
        if (queue == null) {
            return;
        }
        if (callWatch != null) {
            callWatch.cancel();
        }
        poller.unregister();
        controller.releaseQueue(queue);
        queue = null;
    }
}
