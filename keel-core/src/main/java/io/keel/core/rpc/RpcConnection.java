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
 */
final class RpcConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RpcConnection.class);
    private static final int READ_CHUNK = 64 * 1024;
    /** Bytes read per readiness before yielding to the other work of the thread. */
    private static final int READ_BUDGET = 1 << 20;

    private final RpcServer server;
    private final SocketChannel channel;
    private final JsonStreamReader reader;
    private final ByteBuffer in = ByteBuffer.allocate(READ_CHUNK);
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
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
        watch = owner.watch(channel, SelectionKey.OP_READ, this::onReady);
    }

    private int onReady(int ops) {
        if ((ops & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((ops & SelectionKey.OP_READ) != 0 && !closed && !closeAfterFlush) {
            readAvailable();
        }
        return 1;
    }

    private void readAvailable() {
        int total = 0;
        while (total < READ_BUDGET && !closed && !closeAfterFlush) {
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
                watch.interest(out.isEmpty() ? 0 : SelectionKey.OP_WRITE);
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
    }

    private void dispatch(JsonNode request) {
        pending++;
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
        out.add(b);
        flush();
        closeIfDone();
    }

    private void enqueue(JsonNode answer) {
        try {
            out.add(ByteBuffer.wrap((Json.MAPPER.writeValueAsString(answer) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        flush();
    }

    private void flush() {
        try {
            while (!out.isEmpty()) {
                ByteBuffer b = out.peek();
                channel.write(b);
                if (b.hasRemaining()) {
                    watch.interest(SelectionKey.OP_WRITE);
                    return;
                }
                out.poll();
            }
        } catch (IOException e) {
            LOG.debug("rpc: write failed: {}", e.getMessage());
            close();
            return;
        }
        if (!closed) {
            watch.interest(inputEnded || closeAfterFlush ? 0 : SelectionKey.OP_READ);
        }
        closeIfDone();
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
