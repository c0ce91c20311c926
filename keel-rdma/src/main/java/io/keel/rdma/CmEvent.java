package io.keel.rdma;

import io.keel.core.mem.NativeArena;
import java.lang.foreign.MemorySegment;

/**
 * One RDMA CM event, decoded and copied out of librdmacm's {@code struct rdma_cm_event} by
 * {@link CmEventChannel#next}, which has acknowledged the original: reused for every event its owner reads.
 * Events name cm ids by address ({@link CmId#address}): a dispatcher finds the id's owner by it and forwards the event
 * there (rule R2). A CONNECT_REQUEST's {@link #id} is a new id, for the listener's owner to {@link CmId#adopt}.
 */
public final class CmEvent implements AutoCloseable {
    /** The most private data a CM message carries (private_data_len is one byte). */
    public static final int MAX_PRIVATE_DATA = 255;

    private final NativeArena arena = new NativeArena();
    private final MemorySegment privateData = arena.allocate(MAX_PRIVATE_DATA);
    private int rawType;
    private CmEventType type;
    private long id;
    private long listenId;
    private int status;
    private int privateDataLength;
    private int responderResources;
    private int initiatorDepth;

    /** The type, or null when the kernel sent one this enum does not know ({@link #rawType} says which). */
    public CmEventType type() {
        return type;
    }

    public int rawType() {
        return rawType;
    }

    /** The address of the cm id the event is for. */
    public long id() {
        return id;
    }

    /** For a CONNECT_REQUEST: the address of the listening id it arrived on; 0 otherwise. */
    public long listenId() {
        return listenId;
    }

    /** 0, or the failure: {@code -errno} for address and route errors, the IB CM's reason for REJECTED. */
    public int status() {
        return status;
    }

    /**
     * The peer's private data (CONNECT_REQUEST: from its connect; ESTABLISHED on the active side: from the accept;
     * REJECTED: from the reject). Bytes past {@link #privateDataLength} are stale. The transport may pad it: a
     * CONNECT_REQUEST over RoCE reports 56 bytes whatever the peer sent.
     */
    public MemorySegment privateData() {
        return privateData;
    }

    public int privateDataLength() {
        return privateDataLength;
    }

    /**
     * CONNECT_REQUEST: the RDMA READs the peer lets us have outstanding against it (its responder resources, reported
     * from our side, as {@code rdma_get_cm_event} does); ESTABLISHED on the active side: what the accept granted.
     * Meaningless for events that carry no connection parameters.
     */
    public int initiatorDepth() {
        return initiatorDepth;
    }

    /**
     * CONNECT_REQUEST: the RDMA READs the peer wants to have outstanding against us (its initiator depth, reported
     * from our side). Meaningless for events that carry no connection parameters.
     */
    public int responderResources() {
        return responderResources;
    }

    /** The connection parameters of a connected port space's event ({@code param.conn}); after {@link #set}. */
    void connection(int responderResources, int initiatorDepth) {
        this.responderResources = responderResources;
        this.initiatorDepth = initiatorDepth;
    }

    void set(int rawType, long id, long listenId, int status, MemorySegment data, int length) {
        this.rawType = rawType;
        this.type = CmEventType.of(rawType);
        this.id = id;
        this.listenId = listenId;
        this.status = status;
        this.responderResources = 0;
        this.initiatorDepth = 0;
        this.privateDataLength = data.equals(MemorySegment.NULL) ? 0 : Math.min(length, MAX_PRIVATE_DATA);
        if (privateDataLength > 0) {
            MemorySegment.copy(data.reinterpret(privateDataLength), 0, privateData, 0, privateDataLength);
        }
    }

    @Override
    public String toString() {
        return (type != null ? type.name() : "event " + rawType) + " id=0x" + Long.toHexString(id)
                + (listenId != 0 ? " listen=0x" + Long.toHexString(listenId) : "") + " status=" + status
                + " private_data=" + privateDataLength + "B"
                + (responderResources + initiatorDepth > 0 ? " responder_resources=" + responderResources
                        + " initiator_depth=" + initiatorDepth : "");
    }

    @Override
    public void close() {
        arena.close(); // idempotent
    }
}
