package io.keel.rdma;

/** {@code enum ibv_event_type}, in the header's order (the ordinal is the C value). */
public enum AsyncEventType {
    CQ_ERR,
    QP_FATAL,
    QP_REQ_ERR,
    QP_ACCESS_ERR,
    COMM_EST,
    SQ_DRAINED,
    PATH_MIG,
    PATH_MIG_ERR,
    DEVICE_FATAL,
    PORT_ACTIVE,
    PORT_ERR,
    LID_CHANGE,
    PKEY_CHANGE,
    SM_CHANGE,
    SRQ_ERR,
    SRQ_LIMIT_REACHED,
    QP_LAST_WQE_REACHED,
    CLIENT_REREGISTER,
    GID_CHANGE,
    WQ_FATAL;

    private static final AsyncEventType[] BY_VALUE = values();

    /** The type of a C value, or null for one this enum does not know (a newer library's). */
    static AsyncEventType of(int value) {
        return value >= 0 && value < BY_VALUE.length ? BY_VALUE[value] : null;
    }

    /** Whether the event's element is a queue pair. */
    public boolean aboutQueuePair() {
        return switch (this) {
            case QP_FATAL, QP_REQ_ERR, QP_ACCESS_ERR, COMM_EST, SQ_DRAINED, PATH_MIG, PATH_MIG_ERR,
                    QP_LAST_WQE_REACHED -> true;
            default -> false;
        };
    }

    /** Whether the element is a port number. */
    public boolean aboutPort() {
        return switch (this) {
            case PORT_ACTIVE, PORT_ERR, LID_CHANGE, PKEY_CHANGE, SM_CHANGE, CLIENT_REREGISTER, GID_CHANGE -> true;
            default -> false;
        };
    }

    /** The name rdma-core's {@code ibv_event_type_str} and SPDK's logs use, e.g. {@code IBV_EVENT_PORT_ERR}. */
    public String cName() {
        return "IBV_EVENT_" + name();
    }
}
