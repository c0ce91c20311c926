package io.keel.core.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Splits a byte stream into complete top-level JSON values, however the bytes are split across reads: the
 * values may be back to back with no delimiter, as SPDK's rpc.py writes them. Incremental: bytes are parsed
 * as they arrive and nothing is re-scanned. A value larger than the bound is refused while it is still
 * arriving, so a huge request cannot exhaust memory.
 */
final class JsonStreamReader {
    /** The stream is not JSON, or a value is too large; the connection cannot be resynchronised. */
    static final class StreamError extends Exception {
        private final int code;

        StreamError(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }

        int code() {
            return code;
        }
    }

    /** What Jackson says about a trailing comma found within one read. */
    private static final String TRAILING_COMMA =
            "Parse error: Unexpected character ('}' (code 125)): was expecting double-quote to start field name";

    private final JsonParser parser;
    private final ByteArrayFeeder feeder;
    private final long maxValueBytes;
    private TokenBuffer value;
    private int depth;
    /** Bytes fed since the stream began. */
    private long fed;
    /** Stream offset just past the last complete value: where the value being received began. */
    private long valueStart;
    /** The last byte other than white space in the reads before the current one. */
    private byte lastSignificant;

    JsonStreamReader(long maxValueBytes) {
        try {
            this.parser = Json.MAPPER.getFactory().createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        this.maxValueBytes = maxValueBytes;
    }

    /** Parses {@code len} more bytes, passing each value it completes to {@code onValue}. */
    void feed(byte[] bytes, int off, int len, Consumer<JsonNode> onValue) throws StreamError {
        fed += len;
        try {
            feeder.feedInput(bytes, off, off + len);
            JsonToken t;
            while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
                if (t == JsonToken.END_OBJECT && afterComma(bytes, off, len)) {
                    throw new StreamError(RpcException.PARSE_ERROR, TRAILING_COMMA);
                }
                if (depth == 0) {
                    value = new TokenBuffer(parser);
                }
                value.copyCurrentEvent(parser);
                if (t.isStructStart()) {
                    depth++;
                } else if (t.isStructEnd()) {
                    depth--;
                }
                if (depth == 0) {
                    long end = parser.currentLocation().getByteOffset();
                    if (end - valueStart > maxValueBytes) {
                        throw tooLarge();
                    }
                    valueStart = end;
                    JsonNode node;
                    try (JsonParser p = value.asParser(Json.MAPPER)) {
                        node = Json.MAPPER.readTree(p);
                    }
                    value = null;
                    onValue.accept(node);
                }
            }
        } catch (IOException e) {
            throw new StreamError(RpcException.PARSE_ERROR, "Parse error: " + originalMessage(e));
        }
        // Only the value still arriving counts against the bound, not the complete ones before it in this chunk.
        if (fed - valueStart > maxValueBytes) {
            throw tooLarge();
        }
        for (int i = off + len - 1; i >= off; i--) {
            if (!whitespace(bytes[i])) {
                lastSignificant = bytes[i];
                break;
            }
        }
    }

    /**
     * Whether the '}' just parsed follows a ',' (a trailing comma). Jackson's non-blocking parser (2.20 to 2.22
     * at least) accepts one when a read ends between the comma and the brace, while it refuses it within one read;
     * this makes the answer the same however the bytes were split. O(white space before the brace).
     */
    private boolean afterComma(byte[] bytes, int off, int len) {
        long brace = parser.currentLocation().getByteOffset() - 1;
        long readStart = fed - len;
        for (long at = brace - 1; at >= readStart; at--) {
            byte b = bytes[off + (int) (at - readStart)];
            if (!whitespace(b)) {
                return b == ',';
            }
        }
        return lastSignificant == ',';
    }

    private static boolean whitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    private StreamError tooLarge() {
        return new StreamError(RpcException.INVALID_REQUEST, "Invalid request: larger than " + maxValueBytes + " bytes");
    }

    private static String originalMessage(IOException e) {
        return e instanceof com.fasterxml.jackson.core.JacksonException j ? j.getOriginalMessage() : e.getMessage();
    }

    /** True when no value is partly received. */
    boolean idle() {
        return depth == 0;
    }

}
