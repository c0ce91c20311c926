package io.keel.vhost.user;

import io.keel.vhost.virtio.VirtqueueHandler;
import java.lang.foreign.MemorySegment;

/**
 * What a device type (virtio-blk) gives a vhost-user connection: its feature bits, queue count, config space, and the
 * handling of the requests the connection's queues pop ({@link VirtqueueHandler#onRequest}, on the connection's
 * thread). The connection owns the protocol, guest memory and the rings; the device owns what requests mean.
 */
public interface VhostUserDevice extends VirtqueueHandler {
    /** The device type's feature bits; the connection adds those of the ring and transport it implements. */
    long deviceFeatures();

    /** How many queues the device has at most (GET_QUEUE_NUM). */
    int maxQueues();

    /** Most guest memory segments one request may have (the chain's buffers, split at memory region ends). */
    int maxSegments();

    /** The device's config space as GET_CONFIG reads it (virtio-blk: {@link io.keel.vhost.blk.VirtioBlkConfig}). */
    MemorySegment configSpace();

    /** SET_CONFIG: the driver writes {@code data} at {@code offset} of the config space. 0 or {@code -errno}. */
    int writeConfig(int offset, MemorySegment data);
}
