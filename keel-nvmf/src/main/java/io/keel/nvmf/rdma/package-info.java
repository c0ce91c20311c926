/**
 * The NVMe-oF RDMA transport of the target (NVMe-oF 1.1, RDMA transport binding) on keel-rdma: the
 * {@link io.keel.nvmf.rdma.RdmaTransport} with its RDMA CM listeners on the application thread, poll groups that own
 * their qpairs' cm ids, completion queues and pools, and the wire pieces — the CM private data and the SGL
 * descriptors of a capsule — tested without a device.
 */
package io.keel.nvmf.rdma;
