package io.keel.nvme.host;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a transport keeps per {@link HostPollGroup} (RDMA: the CM event channel, a completion queue and protection
 * domain per device): made on the group's thread when its first qpair needs it, closed with the group after every
 * qpair closed.
 */
public interface TransportPollGroup extends AutoCloseable {
    /** SPDK's trname, e.g. {@code RDMA}. */
    String transportName();

    /** Adds the transport's own fields of {@code bdev_nvme_get_transport_statistics} to {@code out}. */
    void statistics(ObjectNode out);

    /** Frees it; its qpairs are closed. */
    @Override
    void close();
}
