package io.keel.vhost.virtio;

/** Takes the requests a virtqueue pops (the device type's layer: virtio-blk). Called on the queue's owner thread. */
@FunctionalInterface
public interface VirtqueueHandler {
    /**
     * A request the driver made available. Its segments point into guest memory and stay valid until the handler
     * completes it ({@link VirtqueueRequest#complete}), on this thread, now or later, exactly once.
     */
    void onRequest(Virtqueue queue, VirtqueueRequest request);
}
