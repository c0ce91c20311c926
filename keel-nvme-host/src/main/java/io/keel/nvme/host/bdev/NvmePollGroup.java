package io.keel.nvme.host.bdev;

import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.HostPollGroup;
import java.util.ArrayList;
import java.util.List;

/**
 * One thread's host poll group, shared by every controller's I/O queue on that thread (the context of the
 * module's {@code bdev_nvme_poll_groups} io_device, SPDK's {@code nvme_poll_group}), and the list of the thread's
 * bdev channels. Closed when the last channel on the thread lets go of it.
 */
final class NvmePollGroup {
    final HostPollGroup group;
    /** The bdev channels of this thread, for bdev_nvme_get_io_paths (owner thread only). */
    final List<NvmeBdevChannel> bdevChannels = new ArrayList<>();

    NvmePollGroup(KeelThread thread) {
        this.group = new HostPollGroup(thread);
    }

    void destroy() {
        group.close();
    }
}
