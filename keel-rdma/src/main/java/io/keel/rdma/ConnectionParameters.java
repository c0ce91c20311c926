package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.keel.core.mem.NativeArena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable {@code struct rdma_conn_param} with room for the private data it points to, for {@link CmId#connect}
 * and {@link CmId#accept}. Starts with no private data, no RDMA READ resources, and the largest retry counts (7).
 * Owned by one thread; closed by its owner.
 */
public final class ConnectionParameters implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment param = arena.allocate(RdmaAbi.CONN_PARAM_BYTES, 8);
    private final MemorySegment privateData = arena.allocate(CmEvent.MAX_PRIVATE_DATA);

    public ConnectionParameters() {
        param.set(ADDRESS, RdmaAbi.CONN_PARAM_PRIVATE_DATA, privateData);
        retryCount(7);
        rnrRetryCount(7);
    }

    /** The buffer to write private data into; {@link #privateDataLength} says how much of it goes. */
    public MemorySegment privateData() {
        return privateData;
    }

    public ConnectionParameters privateDataLength(int length) {
        return set(RdmaAbi.CONN_PARAM_PRIVATE_DATA_LEN, length, CmEvent.MAX_PRIVATE_DATA);
    }

    /** RDMA READs (and atomics) the peer may have outstanding against us. */
    public ConnectionParameters responderResources(int n) {
        return set(RdmaAbi.CONN_PARAM_RESPONDER_RESOURCES, n, 255);
    }

    /** RDMA READs (and atomics) we may have outstanding against the peer. */
    public ConnectionParameters initiatorDepth(int n) {
        return set(RdmaAbi.CONN_PARAM_INITIATOR_DEPTH, n, 255);
    }

    /** Transport retries after a timeout (0-7; ignored when accepting). */
    public ConnectionParameters retryCount(int n) {
        return set(RdmaAbi.CONN_PARAM_RETRY_COUNT, n, 7);
    }

    /** Retries after the peer had no receive posted (0-7; 7 retries forever). */
    public ConnectionParameters rnrRetryCount(int n) {
        return set(RdmaAbi.CONN_PARAM_RNR_RETRY_COUNT, n, 7);
    }

    MemorySegment segment() {
        return param;
    }

    private ConnectionParameters set(long offset, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException("value " + value + " out of 0.." + max);
        }
        param.set(JAVA_BYTE, offset, (byte) value);
        return this;
    }

    @Override
    public void close() {
        arena.close(); // idempotent
    }
}
