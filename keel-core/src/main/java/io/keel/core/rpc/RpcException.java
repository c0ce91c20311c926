package io.keel.core.rpc;

/**
 * A JSON-RPC error: a standard code (-32700 .. -32603), or a negative errno with its text as SPDK answers
 * (e.g. -19 "No such device").
 */
public class RpcException extends RuntimeException {
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** SPDK_JSONRPC_ERROR_INVALID_STATE: the method is not allowed in the application's current state. */
    public static final int INVALID_STATE = -1;

    private final int code;

    public RpcException(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static RpcException invalidParams(String message) {
        return new RpcException(INVALID_PARAMS, "Invalid parameters: " + message);
    }

    public static RpcException internal(String message) {
        return new RpcException(INTERNAL_ERROR, message);
    }

    /** A negative errno error, e.g. {@code errno(Errno.ENODEV, "bdev Malloc9 not found")}. */
    public static RpcException errno(int errno, String message) {
        return new RpcException(-Math.abs(errno), message);
    }
}
