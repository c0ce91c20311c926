package io.keel.nvmf.tcp;

/**
 * Executes the commands of one connection, on the connection's owner thread. For a command with host to
 * controller data, all of it is in {@link TcpRequest#data()} when this is called. The handler completes the
 * request with {@link TcpRequest#complete} exactly once, synchronously or later (still on the owner thread).
 */
@FunctionalInterface
public interface CommandHandler {
    void command(TcpRequest request);
}
