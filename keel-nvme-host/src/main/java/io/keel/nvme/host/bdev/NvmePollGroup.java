package io.keel.nvme.host.bdev;

import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.HostPollGroup;

/**
 * One thread's host poll group, shared by every controller's I/O queue on that thread (the context of the
 * module's {@code bdev_nvme_poll_groups} io_device, SPDK's {@code nvme_poll_group}). Closed when the last
 * controller channel on the thread lets go of it.
 */
final class NvmePollGroup {
    final HostPollGroup group;

    NvmePollGroup(KeelThread thread) {
        this.group = new HostPollGroup(thread);
    }

    void destroy() {
        group.close();
    }
}
