/** NVMe-oF over RDMA wire structures shared by the target and the host: the RDMA CM private data. */
package io.keel.nvme.rdma;
