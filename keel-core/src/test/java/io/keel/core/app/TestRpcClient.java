package io.keel.core.app;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** A blocking test client: one request, one answer (the whole response object). */
public final class TestRpcClient implements AutoCloseable {
    private final SocketChannel ch;
    private JsonParser parser;
    private int id;

    public TestRpcClient(Path socket) throws IOException {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
    }

    public JsonNode call(String method, Object params) throws IOException {
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("method", method);
        req.put("id", ++id);
        if (params != null) {
            req.set("params", Json.tree(params));
        }
        ch.write(ByteBuffer.wrap(Json.MAPPER.writeValueAsBytes(req)));
        if (parser == null) {
            parser = Json.MAPPER.getFactory().createParser(Channels.newInputStream(ch));
        }
        return parser.readValueAsTree();
    }

    public JsonNode result(String method, Object params) throws IOException {
        JsonNode answer = call(method, params);
        if (answer.has("error")) {
            throw new AssertionError(method + " failed: " + answer.get("error"));
        }
        return answer.get("result");
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
