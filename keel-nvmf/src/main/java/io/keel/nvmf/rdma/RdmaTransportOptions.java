package io.keel.nvmf.rdma;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.nvmf.TransportOptions;

/**
 * RDMA's own transport options ({@code struct rdma_transport_opts}), with SPDK's defaults, written where SPDK's
 * {@code nvmf_rdma_dump_opts} writes them; {@link #DEFAULTS} are SPDK's RDMA defaults of the common options too.
 *
 * @param maxSrqDepth receive requests of a poll group's shared receive queue per device (at most the device's
 *                    {@code max_srq_wr}); its completion queue has three entries per request
 * @param noSrq each qpair posts its own receive requests instead of sharing a queue per poll group and device
 * @param numCqe completion queue entries of a poll group per device, with {@code no_srq} only (as SPDK)
 * @param acceptorBacklog the listen backlog of each RDMA CM listener
 * @param noWrBatching post every work request at once instead of gathering a poll's into one post per qpair
 */
public record RdmaTransportOptions(long maxSrqDepth, boolean noSrq, int numCqe, int acceptorBacklog,
        boolean noWrBatching) implements TransportOptions.Specific {
    /** SPDK_NVMF_RDMA_DEFAULT_SRQ_DEPTH. */
    public static final long DEFAULT_SRQ_DEPTH = 4096;
    /** DEFAULT_NVMF_RDMA_CQ_SIZE. */
    public static final int DEFAULT_NUM_CQE = 4096;
    /** SPDK_NVMF_RDMA_ACCEPTOR_BACKLOG. */
    public static final int DEFAULT_ACCEPTOR_BACKLOG = 100;
    /** SPDK_NVMF_RDMA_DEFAULT_NUM_SHARED_BUFFERS and SPDK_NVMF_RDMA_DEFAULT_DATA_WR_POOL_SIZE. */
    public static final long DEFAULT_POOL_SIZE = 4095;
    /** The least in-capsule data SPDK's RDMA target takes: room for 16 SGL descriptors (MSDBD). */
    public static final long MIN_IN_CAPSULE_DATA_SIZE = 16 * 16;
    /** Keel's bound on in-capsule data (it sizes every posted receive buffer), as NVMe/TCP's. */
    public static final long MAX_IN_CAPSULE_DATA_SIZE = 131072;
    /**
     * The data buffer a command's data is cut into above it: 128 KiB, the largest power of two in iobuf's default
     * large buffer (a smaller {@code large_bufsize} makes it the largest power of two there).
     */
    public static final long DATA_BUFFER_SIZE = 131072;
    /** The most data buffers one command moves in (SPDK_NVMF_MAX_SGL_ENTRIES). */
    public static final int MAX_DATA_BUFFERS = 16;
    /** The largest {@code max_io_size}: {@link #MAX_DATA_BUFFERS} of {@link #DATA_BUFFER_SIZE}, 2 MiB. */
    public static final long MAX_IO_SIZE = MAX_DATA_BUFFERS * DATA_BUFFER_SIZE;

    public static final RdmaTransportOptions RDMA_DEFAULTS = new RdmaTransportOptions(DEFAULT_SRQ_DEPTH, false,
            DEFAULT_NUM_CQE, DEFAULT_ACCEPTOR_BACKLOG, false);

    /** SPDK's RDMA transport defaults ({@code nvmf_rdma_opts_init} and the common ones). */
    public static final TransportOptions DEFAULTS = new TransportOptions("RDMA", 128, 127, 4096, 131072, 128,
            0xFFFF_FFFFL, 0xFFFF_FFFFL, false, false, false, 0, 1, 0, DEFAULT_POOL_SIZE, false, 100, 10000, 32,
            10000, DEFAULT_POOL_SIZE, TransportOptions.DEFAULT_QUEUE_MEMORY_MB, RDMA_DEFAULTS);

    @Override
    public void describe(TransportOptions common, ObjectNode o) {
        o.put("max_srq_depth", maxSrqDepth);
        o.put("no_srq", noSrq);
        if (noSrq) {
            o.put("num_cqe", numCqe);
        }
        o.put("acceptor_backlog", acceptorBacklog);
        o.put("no_wr_batching", noWrBatching);
        if (common.numSharedBuffers() != DEFAULT_POOL_SIZE) {
            o.put("num_shared_buffers", common.numSharedBuffers()); // Keel honours it: the data buffer bound
        }
    }

    @Override
    public String problem(TransportOptions common) {
        if (common.maxIoSize() > MAX_IO_SIZE) {
            return "Unsupported max_io_size specified, " + common.maxIoSize() + " bytes (Keel's RDMA transport moves "
                    + "at most " + MAX_DATA_BUFFERS + " data buffers of " + DATA_BUFFER_SIZE + " bytes per command: "
                    + MAX_IO_SIZE + ")";
        }
        if (common.inCapsuleDataSize() > MAX_IN_CAPSULE_DATA_SIZE) {
            return "in_capsule_data_size " + common.inCapsuleDataSize() + " is more than " + MAX_IN_CAPSULE_DATA_SIZE;
        }
        if (common.dataWrPoolSize() < 1) {
            return "data_wr_pool_size must be at least 1";
        }
        if (maxSrqDepth < 1 || maxSrqDepth > 0xFFFF) {
            return "max_srq_depth must be between 1 and 65535";
        }
        if (numCqe < 1) {
            return "num_cqe must be at least 1";
        }
        return null;
    }
}
