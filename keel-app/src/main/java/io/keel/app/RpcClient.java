package io.keel.app;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blocking JSON-RPC client over a Unix socket, speaking as SPDK's rpc.py does (one request, then the first
 * complete JSON value of the reply). It runs in the {@code keel rpc} command, never on a reactor.
 */
final class RpcClient implements AutoCloseable {
    /** A JSON-RPC error answer. */
    static final class RpcError extends Exception {
        final JsonNode error;

        RpcError(JsonNode error) {
            super(error.path("message").asText() + " (code " + error.path("code").asInt() + ")");
            this.error = error;
        }
    }

    private final SocketChannel channel;
    private final InputStream in;
    /** Made after the first request is sent: Jackson reads ahead to detect the encoding as it is created. */
    private JsonParser replies;
    private final AtomicInteger nextId = new AtomicInteger(1);

    RpcClient(Path socket, long timeoutMillis) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new TimeoutInputStream(channel, timeoutMillis);
    }

    /** Calls {@code method} and returns its result (null for none); throws {@link RpcError} on an error answer. */
    JsonNode call(String method, JsonNode params) throws IOException, RpcError {
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("method", method);
        req.put("id", nextId.getAndIncrement());
        if (params != null && !params.isEmpty()) {
            req.set("params", params);
        }
        ByteBuffer out = ByteBuffer.wrap(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(req));
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                Thread.onSpinWait(); // non-blocking channel with a full socket buffer: the server is reading
            }
        }
        if (replies == null) {
            replies = Json.MAPPER.getFactory().createParser(in);
        }
        JsonNode answer = replies.readValueAsTree();
        if (answer == null) {
            throw new IOException("the server closed the connection without answering");
        }
        if (answer.has("error")) {
            throw new RpcError(answer.get("error"));
        }
        return answer.get("result");
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Reads that give up after a timeout, so a silent server cannot hang the client. */
    private static final class TimeoutInputStream extends InputStream {
        private final SocketChannel ch;
        private final Selector selector;
        private final long timeoutMillis;

        TimeoutInputStream(SocketChannel ch, long timeoutMillis) throws IOException {
            this.ch = ch;
            this.timeoutMillis = timeoutMillis;
            ch.configureBlocking(false);
            this.selector = Selector.open();
            ch.register(selector, SelectionKey.OP_READ);
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (true) {
                int n = ch.read(ByteBuffer.wrap(b, off, len));
                if (n != 0) {
                    return n;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new IOException("no answer within " + timeoutMillis + " ms");
                }
                selector.select(left);
                selector.selectedKeys().clear();
            }
        }

        @Override
        public void close() throws IOException {
            selector.close();
        }
    }
}
