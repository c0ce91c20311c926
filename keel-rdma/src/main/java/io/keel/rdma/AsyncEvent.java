package io.keel.rdma;

/**
 * One asynchronous event of a device as {@link AsyncEvents#next} decoded it: a reusable holder, one owner thread.
 * {@link #type} is null for a code this library does not know ({@link #code} says which).
 */
public final class AsyncEvent {
    private AsyncEventType type;
    private int code;
    private long queuePairContext;
    private int queuePairNumber;
    private int port;

    void set(AsyncEventType type, int code, long queuePairContext, int queuePairNumber, int port) {
        this.type = type;
        this.code = code;
        this.queuePairContext = queuePairContext;
        this.queuePairNumber = queuePairNumber;
        this.port = port;
    }

    public AsyncEventType type() {
        return type;
    }

    public int code() {
        return code;
    }

    /** For a queue pair's event: the {@code qp_context} its creator set. */
    public long queuePairContext() {
        return queuePairContext;
    }

    /** For a queue pair's event: its number; else -1. */
    public int queuePairNumber() {
        return queuePairNumber;
    }

    /** For a port's event: the port number; else -1. */
    public int port() {
        return port;
    }

    @Override
    public String toString() {
        String name = type != null ? type.cName() : "async event " + code;
        return type != null && type.aboutQueuePair() ? name + " (qp " + queuePairNumber + ")"
                : type != null && type.aboutPort() ? name + " (port " + port + ")" : name;
    }
}
