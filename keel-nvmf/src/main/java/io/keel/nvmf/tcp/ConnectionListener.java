package io.keel.nvmf.tcp;

/** The owner's callback for the end of a connection; the owner then closes the socket. */
@FunctionalInterface
public interface ConnectionListener {
    /**
     * The connection is finished: {@code state} is {@link TcpQpairConnection.State#TERMINATED} (we sent a
     * C2HTermReq with {@code fes}) or {@link TcpQpairConnection.State#CLOSED} (the host sent an H2CTermReq with
     * {@code fes}, or {@link TcpQpairConnection#close()} was called, fes 0). {@code reason} is a constant text.
     */
    void ended(TcpQpairConnection connection, TcpQpairConnection.State state, int fes, String reason);
}
