package io.keel.core.rpc;

/**
 * The pending answer to one request. Complete it exactly once, from any thread: the answer is serialised on
 * the completing thread and written by the connection's own thread.
 */
public interface RpcCall {
    /** Answers with {@code result} (a record, map, list, JsonNode, Boolean, ...). */
    void respond(Object result);

    /** Answers with a JSON-RPC error. */
    void fail(int code, String message);

    default void fail(RpcException e) {
        fail(e.code(), e.getMessage());
    }

    /** The method's name, for log lines. */
    String method();
}
