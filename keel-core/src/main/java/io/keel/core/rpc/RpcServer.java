package io.keel.core.rpc;

import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON-RPC 2.0 server on a Unix socket, as SPDK serves it: run by one lightweight thread, which owns the
 * listening socket and every connection (rule R1), never blocking it. The socket file is created with mode
 * 0600; a stale file is replaced, a live one (another process answers on it) is refused.
 *
 * <p>What clients can make it hold is bounded: at most {@link #MAX_CONNECTIONS} connections (more are closed
 * at accept, with a log line), each bounded as {@link RpcConnection} says, and a client that takes none of its
 * answers for {@link #WRITE_STALL_NANOS} is closed.
 */
public final class RpcServer {
    private static final Logger LOG = LoggerFactory.getLogger(RpcServer.class);
    public static final long DEFAULT_MAX_REQUEST_BYTES = 16L << 20;
    /** Open connections beyond which a new client is refused (closed at once, logged). */
    public static final int MAX_CONNECTIONS = 64;
    /** A client that has taken none of its pending answers for this long is closed. */
    public static final long WRITE_STALL_NANOS = 30_000_000_000L;
    private static final int READ_CHUNK = 64 * 1024;

    private final RpcMethods methods;
    private final Path path;
    private final long maxRequestBytes;
    private final KeelThread thread;
    private final Set<RpcConnection> connections = new HashSet<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_CHUNK);
    private ServerSocketChannel listener;
    private FdWatch listenerWatch;
    /** Closes clients that stopped taking answers; runs only while some client is blocked. */
    private Poller stallCheck;
    private long refused;
    private long writeStallNanos = WRITE_STALL_NANOS;
    private boolean closed;

    private RpcServer(RpcMethods methods, Path path, long maxRequestBytes, KeelThread thread) {
        this.methods = methods;
        this.path = path;
        this.maxRequestBytes = maxRequestBytes;
        this.thread = thread;
    }

    /**
     * Binds {@code path} and starts serving on the calling lightweight thread. Throws
     * {@link UncheckedIOException} if the socket cannot be created or another process is serving on it.
     */
    public static RpcServer listen(RpcMethods methods, Path path, long maxRequestBytes) {
        KeelThread t = KeelThread.current();
        if (t == null) {
            throw new IllegalStateException("the RPC server must be started on a lightweight thread");
        }
        RpcServer s = new RpcServer(methods, path, maxRequestBytes, t);
        try {
            s.listener = bindPrivate(path);
            s.listener.configureBlocking(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        s.listenerWatch = t.watch(s.listener, SelectionKey.OP_ACCEPT, ops -> s.acceptAll()).relaxed();
        s.stallCheck = t.registerPoller("rpc_write_stall", s::closeStalledClients, 1_000_000);
        s.stallCheck.pause();
        LOG.info("JSON-RPC server listening on {}", path);
        return s;
    }

    /** Binds under a temporary name, sets mode 0600, then renames into place: the socket is never world-open. */
    private static ServerSocketChannel bindPrivate(Path path) throws IOException {
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (isLive(path)) {
                throw new IOException("another process is serving RPC on " + path + " (choose another with -r)");
            }
            LOG.info("removing stale RPC socket {}", path);
            Files.delete(path);
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
        return ch;
    }

    private static boolean isLive(Path path) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    private int acceptAll() {
        int accepted = 0;
        while (!closed) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                LOG.error("rpc: accept failed", e);
                break;
            }
            if (c == null) {
                break;
            }
            if (connections.size() >= MAX_CONNECTIONS) {
                refused++;
                LOG.warn("rpc: refusing a client: {} connections are open, the most allowed ({} refused so far)",
                        connections.size(), refused);
                closeQuietly(c);
                continue;
            }
            try {
                c.configureBlocking(false);
                RpcConnection conn = new RpcConnection(this, c, maxRequestBytes);
                connections.add(conn);
                conn.start(thread);
                accepted++;
            } catch (IOException e) {
                LOG.error("rpc: cannot set up a connection", e);
                closeQuietly(c);
            }
        }
        return accepted;
    }

    RpcMethods methods() {
        return methods;
    }

    KeelThread thread() {
        return thread;
    }

    void connectionClosed(RpcConnection c) {
        connections.remove(c);
    }

    ByteBuffer readBuffer() {
        return readBuffer;
    }

    /** A client stopped taking its answers: watch it. */
    void writerBlocked() {
        if (!closed) {
            stallCheck.resume();
        }
    }

    private int closeStalledClients() {
        long now = thread.runtime().clock().nanoTime();
        boolean anyBlocked = false;
        for (RpcConnection c : Set.copyOf(connections)) {
            long since = c.blockedSinceNanos();
            if (since != 0 && now - since >= writeStallNanos) {
                LOG.warn("rpc: closing a client that took none of its answers for {} s ({} bytes unsent)",
                        (now - since) / 1_000_000_000L, c.unsentBytes());
                c.close();
            } else {
                anyBlocked |= since != 0;
            }
        }
        if (!anyBlocked) {
            stallCheck.pause();
        }
        return PollerFn.IDLE;
    }

    public Path path() {
        return path;
    }

    /** Open client connections. Server thread only. */
    public int connectionCount() {
        return connections.size();
    }

    /** Answers written by handlers and not yet taken by their clients, over all connections. Server thread only. */
    public long unsentBytes() {
        long n = 0;
        for (RpcConnection c : connections) {
            n += c.unsentBytes();
        }
        return n;
    }

    /** Clients refused because {@link #MAX_CONNECTIONS} were open. Server thread only. */
    public long refusedConnections() {
        return refused;
    }

    /** Shortens the time after which a client that takes no answers is closed (tests). Server thread only. */
    void writeStallNanos(long nanos) {
        writeStallNanos = nanos;
    }

    /** Stops listening, closes every connection and removes the socket file. Server thread only. Idempotent. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listenerWatch.cancel();
        stallCheck.unregister();
        for (RpcConnection c : Set.copyOf(connections)) {
            c.close();
        }
        closeQuietly(listener);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove RPC socket {}: {}", path, e.getMessage());
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closing; nothing more to do
        }
    }
}
