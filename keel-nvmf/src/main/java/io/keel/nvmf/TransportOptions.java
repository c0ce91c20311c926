package io.keel.nvmf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;

/**
 * A transport's options ({@code spdk_nvmf_transport_opts} plus TCP's own), with SPDK's TCP defaults as
 * {@code nvmf_get_transports} shows them, and Keel's own: {@code keelQueueMemoryMb}, the native memory all
 * connections together may hold in request tables and send buffers (split over the poll groups). A transport
 * with options of its own beyond these (RDMA's) carries them as {@code specific}; TCP's has none (null).
 */
public record TransportOptions(String trtype, int maxQueueDepth, int maxIoQpairsPerCtrlr, long inCapsuleDataSize,
        long maxIoSize, long maxAqDepth, long iobufSmallCacheSize, long iobufLargeCacheSize, boolean difInsertOrStrip,
        boolean zcopy, boolean c2hSuccess, long sockPriority, long abortTimeoutSec, long ackTimeout,
        long dataWrPoolSize, boolean disableCommandPassthru, int kas, long minKato, int controlMsgNum,
        long acceptorPollRate, long numSharedBuffers, long keelQueueMemoryMb, Specific specific) {

    /** A transport's own options, written where SPDK's transport writes its {@code dump_opts}. */
    public interface Specific {
        /**
         * Adds the options to the {@code nvmf_get_transports} entry (and the saved {@code nvmf_create_transport}) of
         * a transport with the common options {@code common}.
         */
        void describe(TransportOptions common, ObjectNode o);

        /** Null if {@code common} and these are acceptable for this transport, else why not. */
        String problem(TransportOptions common);
    }

    static final long UINT32_MAX = 0xFFFF_FFFFL;
    /** SPDK_NVME_TCP_IN_CAPSULE_DATA_MAX_SIZE. */
    static final long TCP_IN_CAPSULE_DATA_MAX = 131072;
    /** SPDK_NVMF_TCP_DEFAULT_MAX_SOCK_PRIORITY. */
    static final long TCP_MAX_SOCK_PRIORITY = 16;
    /** SPDK's TCP default for num_shared_buffers (deprecated there; Keel uses it as the data buffer bound). */
    public static final long TCP_DEFAULT_NUM_SHARED_BUFFERS = 511;
    /** Keel's default bound on connection memory: about 1,900 queues of SPDK's default shape (128 deep, 4 KiB ICD). */
    public static final long DEFAULT_QUEUE_MEMORY_MB = 1024;

    public static final TransportOptions TCP_DEFAULTS = new TransportOptions("TCP", 128, 127, 4096, 131072, 128,
            UINT32_MAX, UINT32_MAX, false, false, true, 0, 1, 0, 0, false, 100, 10000, 32, 10000,
            TCP_DEFAULT_NUM_SHARED_BUFFERS, DEFAULT_QUEUE_MEMORY_MB, null);

    /** The entry of {@code nvmf_get_transports} and the params of the saved {@code nvmf_create_transport}. */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("trtype", trtype);
        o.put("max_queue_depth", maxQueueDepth);
        o.put("max_io_qpairs_per_ctrlr", maxIoQpairsPerCtrlr);
        o.put("in_capsule_data_size", inCapsuleDataSize);
        o.put("max_io_size", maxIoSize);
        o.put("max_aq_depth", maxAqDepth);
        o.put("iobuf_small_cache_size", iobufSmallCacheSize);
        o.put("iobuf_large_cache_size", iobufLargeCacheSize);
        o.put("dif_insert_or_strip", difInsertOrStrip);
        o.put("zcopy", zcopy);
        if (specific != null) {
            specific.describe(this, o);
        } else {
            o.put("c2h_success", c2hSuccess);
            o.put("sock_priority", sockPriority);
        }
        o.put("abort_timeout_sec", abortTimeoutSec);
        o.put("ack_timeout", ackTimeout);
        o.put("data_wr_pool_size", dataWrPoolSize);
        o.put("disable_command_passthru", disableCommandPassthru);
        o.put("kas", kas);
        o.put("min_kato", minKato);
        if (specific == null && numSharedBuffers != TCP_DEFAULT_NUM_SHARED_BUFFERS) {
            o.put("num_shared_buffers", numSharedBuffers); // Keel honours it: the transport's data buffer bound
        }
        if (specific == null && keelQueueMemoryMb != DEFAULT_QUEUE_MEMORY_MB) {
            o.put("keel_queue_memory_mb", keelQueueMemoryMb);
        }
        return o;
    }

    /** Null if these options are acceptable for their transport, else why not. */
    String problem() {
        if (maxQueueDepth < 2) {
            return "max_queue_depth must be at least 2";
        }
        if (maxIoQpairsPerCtrlr < 1) {
            return "max_io_qpairs_per_ctrlr must be at least 1";
        }
        if (maxIoSize < 8192 || Long.bitCount(maxIoSize) != 1) {
            return "max_io_size " + maxIoSize + " must be a power of 2 and at least 8 KiB";
        }
        if (inCapsuleDataSize % 16 != 0) {
            return "in_capsule_data_size must be a multiple of 16";
        }
        if (maxAqDepth < 32 || maxAqDepth > 4096) {
            return "max_aq_depth must be between 32 and 4096";
        }
        if (zcopy) {
            return "zcopy is not supported by Keel's " + trtype + " transport";
        }
        if (difInsertOrStrip) {
            return "dif_insert_or_strip is not supported by Keel (no DIF)";
        }
        if (kas < 1) {
            return "kas must be at least 1";
        }
        if (numSharedBuffers < 1) {
            return "num_shared_buffers must be at least 1";
        }
        return specific != null ? specific.problem(this) : tcpProblem();
    }

    private String tcpProblem() {
        if (inCapsuleDataSize > TCP_IN_CAPSULE_DATA_MAX) {
            return "in_capsule_data_size " + inCapsuleDataSize + " is more than " + TCP_IN_CAPSULE_DATA_MAX;
        }
        if (sockPriority > TCP_MAX_SOCK_PRIORITY) {
            return "sock_priority must be at most " + TCP_MAX_SOCK_PRIORITY;
        }
        if (sockPriority != 0) {
            // SO_PRIORITY is not among the JDK's socket options: refuse rather than pretend to apply it
            return "sock_priority " + sockPriority + " is not supported by Keel yet (only 0)";
        }
        if (keelQueueMemoryMb < 1) {
            return "keel_queue_memory_mb must be at least 1";
        }
        if (controlMsgNum < 1) {
            return "control_msg_num must be at least 1";
        }
        return null;
    }
}
