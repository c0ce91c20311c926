package io.keel.core.rpc;

/**
 * A method's body. It runs on the RPC server's thread and must not block it: start the work (messages to the
 * owners of what it touches) and complete {@code call} when the work completes, from whatever thread that is.
 * Throwing an {@link RpcException} answers with that error.
 */
@FunctionalInterface
public interface RpcHandler<P> {
    void handle(P params, RpcCall call);
}
