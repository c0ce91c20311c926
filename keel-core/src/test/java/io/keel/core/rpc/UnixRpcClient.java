package io.keel.core.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * A raw test client on a real Unix socket. It writes exactly the bytes it is given and reads answers as lines:
 * Keel ends every answer with a newline and writes no newline inside one, so one line is one answer, and an
 * answer without its newline never comes back from {@link #readAnswer()}. Every wait is bounded.
 */
final class UnixRpcClient implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(5);

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long written;

    private UnixRpcClient(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
    }

    static UnixRpcClient connect(Path socket) {
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return new UnixRpcClient(ch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to " + socket, e);
        }
    }

    /** Writes all of {@code text} (UTF-8) as one write as far as the socket takes it. */
    UnixRpcClient send(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Writes every byte separately, pausing between them, so the server sees the request in many reads. */
    UnixRpcClient sendByteByByte(String text, Duration pause) throws IOException {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            write(new byte[] {b});
            LockSupport.parkNanos(pause.toNanos());
        }
        return this;
    }

    /** Writes all of {@code bytes}, waiting (bounded) while the socket is full; throws if the peer goes away. */
    void write(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (b.hasRemaining()) {
            written += channel.write(b);
            if (b.hasRemaining()) {
                waitFor(SelectionKey.OP_WRITE, deadline, "writing");
            }
        }
    }

    /** Bytes this client has written so far. */
    long written() {
        return written;
    }

    /** One request, one answer. */
    JsonNode call(String requestJson) throws IOException {
        send(requestJson);
        return readAnswer();
    }

    /** The next answer, parsed; fails if none arrives in time or the server closes first. */
    JsonNode readAnswer() throws IOException {
        String line = readLine();
        if (line == null) {
            throw new AssertionError("the server closed the connection instead of answering");
        }
        return Json.MAPPER.readTree(line);
    }

    /** The next raw line without its newline, or null at end of stream (nothing partial pending). */
    String readLine() throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            byte[] got = pending.toByteArray();
            for (int i = 0; i < got.length; i++) {
                if (got[i] == '\n') {
                    pending.reset();
                    pending.write(got, i + 1, got.length - i - 1);
                    return new String(got, 0, i, StandardCharsets.UTF_8);
                }
            }
            in.clear();
            int n = channel.read(in);
            if (n < 0) {
                if (got.length > 0) {
                    throw new AssertionError("stream ended inside an answer (no newline): "
                            + new String(got, StandardCharsets.UTF_8));
                }
                return null;
            }
            if (n == 0) {
                waitFor(SelectionKey.OP_READ, deadline, "reading; got so far: "
                        + new String(Arrays.copyOf(got, Math.min(got.length, 200)), StandardCharsets.UTF_8));
            } else {
                pending.write(in.array(), 0, n);
            }
        }
    }

    /** True when the server has closed the connection and sent nothing more (waits, bounded). */
    boolean endOfStream() throws IOException {
        return readLine() == null;
    }

    /**
     * True when the server has closed the connection, sending nothing more. A server that closes with bytes
     * of ours still unread makes Linux report ECONNRESET to us once we have read what it sent, instead of end
     * of stream: on a Unix socket that too means "closed by the server", nothing was lost that it wrote.
     */
    boolean closedByServer() throws IOException {
        try {
            return endOfStream();
        } catch (java.net.SocketException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return true;
            }
            throw e;
        }
    }

    /** Closes only our sending side, as a client that has said all it will say. */
    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    private void waitFor(int op, long deadline, String what) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new AssertionError("timed out " + what);
        }
        SelectionKey key = channel.register(selector, op);
        try {
            selector.select(Math.max(1, left / 1_000_000));
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
