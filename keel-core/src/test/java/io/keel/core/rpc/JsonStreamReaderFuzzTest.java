package io.keel.core.rpc;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzzing of the RPC stream reader with arbitrary bytes. Only {@link JsonStreamReader.StreamError}
 * (-32700 or -32600) may come out; the values and the error are the same whether the bytes arrive in one read,
 * byte by byte or cut at input-derived points; with a small size bound the reader delivers a prefix of the same
 * values, and exactly them when it reports no error.
 */
class JsonStreamReaderFuzzTest {
    /** Above any input the fuzzer makes (4096 bytes unless told otherwise): only the syntax can fail. */
    private static final long UNBOUNDED = 1 << 20;
    private static final long SMALL_BOUND = 48;

    /** What one feed delivered: the values, then the error code (0: none). */
    record Outcome(List<JsonNode> values, int error) {
    }

    @FuzzTest
    void stream(byte[] bytes) {
        Outcome whole = feed(UNBOUNDED, bytes);
        int[] everyByte = new int[Math.max(0, bytes.length - 1)];
        Arrays.setAll(everyByte, i -> i + 1);
        same(whole, feed(UNBOUNDED, bytes, everyByte), "byte by byte");
        int[] cuts = cuts(bytes);
        same(whole, feed(UNBOUNDED, bytes, cuts), "cut at " + Arrays.toString(cuts));

        Outcome bounded = feed(SMALL_BOUND, bytes, cuts);
        if (bounded.error == 0 ? !bounded.equals(whole)
                : !whole.values.subList(0, Math.min(whole.values.size(), bounded.values.size())).equals(bounded.values)) {
            throw new AssertionError("bound changed the values: " + bounded + " vs " + whole);
        }
    }

    private static Outcome feed(long bound, byte[] bytes, int... cuts) {
        JsonStreamReader reader = new JsonStreamReader(bound);
        List<JsonNode> values = new ArrayList<>();
        int from = 0;
        try {
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : bytes.length;
                // each read in its own array, at an offset, as a socket buffer would hand it over
                byte[] read = new byte[to - from + 2];
                System.arraycopy(bytes, from, read, 1, to - from);
                reader.feed(read, 1, to - from, values::add);
                from = to;
            }
        } catch (JsonStreamReader.StreamError e) {
            if (e.code() != RpcException.PARSE_ERROR && e.code() != RpcException.INVALID_REQUEST) {
                throw new AssertionError("undocumented code " + e.code(), e);
            }
            return new Outcome(values, e.code());
        }
        return new Outcome(values, 0);
    }

    /** A few cut points that depend only on the input, so a finding replays. */
    private static int[] cuts(byte[] bytes) {
        int h = Arrays.hashCode(bytes);
        return bytes.length < 2 ? new int[0]
                : Arrays.stream(new int[] {h & 0xFFFF, h >>> 16, h * 31 >>> 8}).map(c -> c % bytes.length).sorted()
                        .toArray();
    }

    private static void same(Outcome expected, Outcome actual, String how) {
        if (!expected.equals(actual)) {
            throw new AssertionError("read differently " + how + ":\n  whole: " + expected + "\n  " + how + ": " + actual);
        }
    }
}
