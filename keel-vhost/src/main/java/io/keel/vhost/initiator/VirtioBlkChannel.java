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
 * from the controller when the channel is made and given back when it goes, polled on this thread by an active
 * poller (poll mode) and on its call eventfd's watch (interrupt mode). A thread that finds every queue taken fails its
 * I/O (logged once), as SPDK refuses the channel. Owner thread only.
 */
final class VirtioBlkChannel {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlkChannel.class);

    private final VirtioUserController controller;
    private final BlkQueue queue;
    private final Poller poller;
    private final FdWatch callWatch;
    private boolean failed;

    VirtioBlkChannel(VirtioUserController controller, KeelThread thread) {
        this.controller = controller;
        this.queue = controller.acquireQueue();
        if (queue == null) {
            LOG.error("virtio {}: thread {} found all {} queues taken by other threads; its I/O fails",
                    controller.name(), thread.name(), controller.queueCount());
            poller = null;
            callWatch = null;
            return;
        }
        poller = thread.registerPoller("virtio_" + controller.name() + "_q" + queue.index, queue::poll);
        callWatch = controller.interruptMode() ? thread.watchFd(queue.callFd, Epoll.EPOLLIN, r -> queue.onCall()) : null;
    }

    /** The queue this channel drives, or null when none was free. */
    BlkQueue queue() {
        return queue;
    }

    void submit(BdevIo io) {
        if (queue == null || failed || controller.gone()) {
            io.complete(BdevIoStatus.FAILED);
            return;
        }
        if (!queue.submit(io)) {
            io.complete(BdevIoStatus.NOMEM); // every slot in flight: the bdev layer re-drives it
        }
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
    }
}
