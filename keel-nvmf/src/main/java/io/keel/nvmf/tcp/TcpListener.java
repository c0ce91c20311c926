package io.keel.nvmf.tcp;

import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.nvmf.ctrlr.ListenAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket of the TCP transport, watched by the application thread's reactor; each accepted
 * connection is handed on (non-blocking, TCP_NODELAY) to be placed on a poll group. Shared by every subsystem
 * that listens on the same address (reference counted by the transport).
 */
final class TcpListener {
    private static final Logger LOG = LoggerFactory.getLogger(TcpListener.class);
    private static final int ACCEPTS_PER_EVENT = 16;

    private final ListenAddress address;
    private final ServerSocketChannel server;
    private final FdWatch watch;
    private final BiConsumer<SocketChannel, ListenAddress> accepted;

    private TcpListener(ListenAddress address, ServerSocketChannel server, KeelThread owner,
            BiConsumer<SocketChannel, ListenAddress> accepted) {
        this.address = address;
        this.server = server;
        this.accepted = accepted;
        this.watch = owner.watch(server, SelectionKey.OP_ACCEPT, ops -> accept());
    }

    /** Binds {@code address} and starts accepting on the calling thread (the application thread). */
    static TcpListener open(ListenAddress address, BiConsumer<SocketChannel, ListenAddress> accepted)
            throws IOException {
        int port = Integer.parseInt(address.trsvcid());
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            s.bind(new InetSocketAddress(address.traddr(), port), 512);
            s.configureBlocking(false);
            return new TcpListener(address, s, KeelThread.current(), accepted);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    ListenAddress address() {
        return address;
    }

    private int accept() {
        int n = 0;
        for (; n < ACCEPTS_PER_EVENT; n++) {
            SocketChannel c;
            try {
                c = server.accept();
                if (c == null) {
                    break;
                }
                c.configureBlocking(false);
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                LOG.warn("nvmf: accept on {}:{} failed: {}", address.traddr(), address.trsvcid(), e.getMessage());
                break;
            }
            accepted.accept(c, address);
        }
        return n;
    }

    void close() {
        watch.cancel();
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("nvmf: closing listener {}: {}", address, e.getMessage());
        }
    }
}
