package io.keel.core.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a byte stream into complete top-level JSON values, however the bytes are split across reads: the
 * values may be back to back with no delimiter, as SPDK's rpc.py writes them. Jackson's non-blocking parser
 * finds where each value ends as the bytes arrive; the value's own bytes are then parsed once more by the
 * blocking parser, which decides whether it is valid JSON. The non-blocking parser alone is lenient where a
 * read ends at the wrong place (it took {@code {"a":}} when the read ended after the colon, and a trailing comma
 * before a brace), so the outcome depended on how the bytes were split; found by fuzzing. Those two are also
 * refused as soon as they are seen, so a value that never completes fails alike however it was split. A value
 * larger than the bound is refused while it is still arriving, so a huge request cannot exhaust memory.
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

    /** The bytes kept for a value in progress are given back when they had grown past this. */
    private static final int KEEP_BYTES = 64 * 1024;
    private static final String TRAILING_COMMA =
            "Parse error: Unexpected character ('}' (code 125)): was expecting double-quote to start field name";
    private static final String TRAILING_COMMA_IN_ARRAY = "Parse error: Unexpected character (']' (code 93)): "
            + "expected a value";
    private static final String MEMBER_WITHOUT_VALUE = "Parse error: Unexpected character ('}' (code 125)): "
            + "expected a value";

    private static final String ROOT_NUMBER = "Parse error: expected space separating root-level values";

    private final JsonParser parser;
    private final ByteArrayFeeder feeder;
    private final long maxValueBytes;
    /** The stream's bytes from {@link #carryStart}: at least those of the value being received. */
    private byte[] carry = new byte[1024];
    private int carryLength;
    private long carryStart;
    private int depth;
    private JsonToken previous;
    /** Between values: the stream offset up to which the bytes after the last value were seen to be white space. */
    private long blankUpTo;
    /** Bytes fed since the stream began. */
    private long fed;
    /** Stream offset just past the last complete value: where the value being received began. */
    private long valueStart;

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
        keep(bytes, off, len);
        try {
            feeder.feedInput(bytes, off, off + len);
            JsonToken t;
            while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
                if (depth == 0 && t.isNumeric() && !whitespaceFollows(bytes, off, len)) {
                    throw new StreamError(RpcException.PARSE_ERROR, ROOT_NUMBER);
                }
                if (t == JsonToken.END_OBJECT && previous == JsonToken.FIELD_NAME) {
                    throw new StreamError(RpcException.PARSE_ERROR, MEMBER_WITHOUT_VALUE);
                }
                if (t.isStructEnd() && afterComma()) {
                    throw new StreamError(RpcException.PARSE_ERROR,
                            t == JsonToken.END_OBJECT ? TRAILING_COMMA : TRAILING_COMMA_IN_ARRAY);
                }
                previous = t;
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
                    JsonNode node = Json.MAPPER.readTree(carry, (int) (valueStart - carryStart),
                            (int) (end - valueStart));
                    valueStart = end;
                    blankUpTo = end;
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
        if (depth == 0) {
            checkValueStart();
        }
        dropCompleteValues();
    }

    /**
     * Whether the '}' or ']' just parsed follows a ',' (a trailing comma): the non-blocking parser lets one pass
     * when a read ends between the comma and the bracket. The kept bytes hold the whole value in progress, so the
     * comma is there whichever read it came in. O(white space before the bracket).
     */
    private boolean afterComma() {
        for (long at = parser.currentLocation().getByteOffset() - 2; at >= carryStart; at--) {
            byte b = carry[(int) (at - carryStart)];
            if (!whitespace(b)) {
                return b == ',';
            }
        }
        return false;
    }

    /**
     * The first byte after the last complete value other than white space must start a value. The non-blocking
     * parser waits for more bytes after some that cannot (a lone 0xEF, which could begin a byte order mark, when
     * a read ended there), so this makes the answer the same however the bytes were split.
     */
    private void checkValueStart() throws StreamError {
        for (long at = Math.max(blankUpTo, valueStart); at < fed; at++) {
            byte b = carry[(int) (at - carryStart)];
            if (!whitespace(b)) {
                if (!startsValue(b)) {
                    throw new StreamError(RpcException.PARSE_ERROR, String.format(
                            "Parse error: byte 0x%02x cannot start a JSON value", b & 0xFF));
                }
                blankUpTo = Long.MAX_VALUE; // a value has begun: nothing to check until it completes
                return;
            }
            blankUpTo = at + 1;
        }
    }

    private static boolean startsValue(byte b) {
        return b == '{' || b == '[' || b == '"' || b == '-' || b >= '0' && b <= '9' || b == 't' || b == 'f'
                || b == 'n';
    }

    /** Appends a read to the kept bytes (growing them by doubling: the value bound caps them). */
    private void keep(byte[] bytes, int off, int len) {
        if (carryLength + len > carry.length) {
            carry = Arrays.copyOf(carry, Math.max(carryLength + len, carry.length * 2));
        }
        System.arraycopy(bytes, off, carry, carryLength, len);
        carryLength += len;
    }

    /** Forgets the bytes of the values already passed on; a buffer grown by a big value is let go once idle. */
    private void dropCompleteValues() {
        int done = (int) (valueStart - carryStart);
        carryLength -= done;
        carryStart = valueStart;
        if (carryLength == 0 && carry.length > KEEP_BYTES) {
            carry = new byte[1024];
        } else if (done > 0) {
            System.arraycopy(carry, done, carry, 0, carryLength);
        }
    }

    /**
     * Whether the byte that ended the top-level number just parsed is white space, as JSON needs between
     * top-level values. Jackson's non-blocking parser checks this only when a read ended inside the number's
     * fraction ("3." then "0d" fails, "3.0d" in one read gives 3.0 first); checking it always makes the
     * outcome the same however the bytes were split. The terminator is in this read: Jackson completes a
     * top-level number only on seeing it.
     */
    private boolean whitespaceFollows(byte[] bytes, int off, int len) {
        long at = parser.currentLocation().getByteOffset() - (fed - len);
        return at < 0 || at >= len || whitespace(bytes[off + (int) at]);
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
