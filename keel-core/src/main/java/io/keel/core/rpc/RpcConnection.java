package io.keel.core.rpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of the RPC server: reads requests as they stream in, dispatches each, and writes answers in the
 * order they complete, each ending with a newline as SPDK's do. Owned by the server's thread; answers
 * completed elsewhere arrive here as messages.
 *
 * <p><b>Bounded.</b> A client is read only while fewer than {@link #MAX_PENDING} of its requests are being
 * worked on and less than {@link #MAX_UNSENT_BYTES} of answers wait to be sent, so one that sends without
 * reading its answers makes the server hold about that much (plus one read chunk's answers), not more; one that
 * has not taken a byte of its answers for {@link RpcServer#WRITE_STALL_NANOS} is closed with a log line. A
 * request still arriving holds at most the request bound. Everything is on the heap (answers are written in
 * chunks, so NIO's per-thread direct buffer stays one chunk); closing drops it all.
 */
final class RpcConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RpcConnection.class);
    /** Bytes read per readiness before yielding to the other work of the thread. */
    private static final int READ_BUDGET = 1 << 20;
    /** Answers not yet taken by the client above which its requests are no longer read. */
    static final long MAX_UNSENT_BYTES = 1 << 20;
    /** Requests being worked on above which the client's further requests are no longer read. */
    static final int MAX_PENDING = 256;
    /** Bytes handed to one write call: NIO copies a heap buffer through a cached direct one of that size. */
    private static final int WRITE_CHUNK = 64 * 1024;

    private final RpcServer server;
    private final SocketChannel channel;
    private final JsonStreamReader reader;
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private long unsent;
    /** When the client last stopped taking answers (0: it takes them); the server closes it after a bound. */
    private long blockedSinceNanos;
    private KeelThread thread;
    private FdWatch watch;
    private int pending;
    private boolean closeAfterFlush;
    private boolean inputEnded;
    private boolean closed;

    RpcConnection(RpcServer server, SocketChannel channel, long maxRequestBytes) {
        this.server = server;
        this.channel = channel;
        this.reader = new JsonStreamReader(maxRequestBytes);
    }

    void start(KeelThread owner) {
        thread = owner;
        watch = owner.watch(channel, SelectionKey.OP_READ, this::onReady).relaxed(); // SPDK polls RPCs every 4 ms
    }

    private int onReady(int ops) {
        if ((ops & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((ops & SelectionKey.OP_READ) != 0 && !closed && wantsInput()) {
            readAvailable();
        }
        return 1;
    }

    /** Whether to read more requests now: not past the end, and not while its answers pile up (the bounds). */
    private boolean wantsInput() {
        return !inputEnded && !closeAfterFlush && unsent < MAX_UNSENT_BYTES && pending < MAX_PENDING;
    }

    private void updateInterest() {
        if (!closed) {
            watch.interest((wantsInput() ? SelectionKey.OP_READ : 0) | (out.isEmpty() ? 0 : SelectionKey.OP_WRITE));
        }
    }

    private void readAvailable() {
        ByteBuffer in = server.readBuffer(); // one per server: connections are read one at a time on its thread
        int total = 0;
        while (total < READ_BUDGET && !closed && wantsInput()) {
            in.clear();
            int n;
            try {
                n = channel.read(in);
            } catch (IOException e) {
                LOG.debug("rpc: read failed: {}", e.getMessage());
                close();
                return;
            }
            if (n < 0) {
                inputEnded = true;
                updateInterest();
                closeIfDone();
                return;
            }
            if (n == 0) {
                return;
            }
            total += n;
            try {
                reader.feed(in.array(), 0, n, this::dispatch);
            } catch (JsonStreamReader.StreamError e) {
                LOG.warn("rpc: {}; closing the connection", e.getMessage());
                enqueue(RpcMethods.error(NullNode.getInstance(), e.code(), e.getMessage()));
                closeAfterFlush = true;
                closeIfDone();
                return;
            }
        }
        updateInterest(); // a bound may have been reached
    }

    private void dispatch(JsonNode request) {
        pending++; // counted against MAX_PENDING: the read loop stops once it is reached
        server.methods().dispatch(request, this::answerFromAnyThread);
    }

    /** Serialises the answer on the completing thread, then hands the bytes to the connection's thread. */
    private void answerFromAnyThread(JsonNode answer) {
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writeValueAsBytes(answer);
        } catch (JsonProcessingException e) {
            bytes = ("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"Internal error\"}}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        ByteBuffer b = ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) '\n').flip();
        if (KeelThread.current() == thread) {
            answered(b);
        } else {
            thread.send(RpcConnection::answeredMessage, new Object[] {this, b});
        }
    }

    private static void answeredMessage(Object[] m) {
        ((RpcConnection) m[0]).answered((ByteBuffer) m[1]);
    }

    private void answered(ByteBuffer b) {
        pending--;
        if (closed) {
            return; // the client went away; nobody to tell
        }
        queue(b);
        flush();
        closeIfDone();
    }

    private void enqueue(JsonNode answer) {
        try {
            queue(ByteBuffer.wrap((Json.MAPPER.writeValueAsString(answer) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        flush();
    }

    private void queue(ByteBuffer b) {
        out.add(b);
        unsent += b.remaining();
    }

    private void flush() {
        long before = unsent;
        try {
            while (!out.isEmpty()) {
                ByteBuffer b = out.peek();
                int limit = b.limit();
                b.limit(Math.min(limit, b.position() + WRITE_CHUNK));
                int n = channel.write(b);
                b.limit(limit);
                unsent -= n;
                if (b.hasRemaining() && n == 0) {
                    break; // the client's socket buffer is full
                }
                if (!b.hasRemaining()) {
                    out.poll();
                }
            }
        } catch (IOException e) {
            LOG.debug("rpc: write failed: {}", e.getMessage());
            close();
            return;
        }
        if (out.isEmpty()) {
            blockedSinceNanos = 0;
        } else if (blockedSinceNanos == 0 || unsent < before) {
            blockedSinceNanos = thread.runtime().clock().nanoTime(); // blocked now, or took some: the bound restarts
            server.writerBlocked();
        }
        updateInterest();
        closeIfDone();
    }

    /** When the client stopped taking its answers, or 0. Server thread only. */
    long blockedSinceNanos() {
        return blockedSinceNanos;
    }

    long unsentBytes() {
        return unsent;
    }

    /** A client that stopped sending is closed once every answer it is owed has been written. */
    private void closeIfDone() {
        if (!closed && out.isEmpty() && (closeAfterFlush || (inputEnded && pending == 0))) {
            close();
        }
    }

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        watch.cancel();
        RpcServer.closeQuietly(channel);
        server.connectionClosed(this);
    }
}
