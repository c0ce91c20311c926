package io.keel.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Inputs the fuzzer found where the reader's answer depended on how the bytes were split. */
class JsonStreamReaderTest {
    /** Feeds {@code text} in two reads cut at {@code cut}; returns the error, or null with the values in {@code out}. */
    private static JsonStreamReader.StreamError feed(String text, int cut, List<JsonNode> out) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        JsonStreamReader reader = new JsonStreamReader(1 << 20);
        return catchThrowableOfType(JsonStreamReader.StreamError.class, () -> {
            reader.feed(b, 0, cut, out::add);
            reader.feed(b, cut, b.length - cut, out::add);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":1,}", "{\"a\":1 , \n}", "{\"a\":{},}", "[{\"a\":\"x\",}]", "{\"s\":\"é\"} {\"a\":1,}"})
    void aTrailingCommaInAnObjectIsAParseErrorWhereverTheReadEnds(String text) {
        for (int cut = 0; cut <= text.getBytes(StandardCharsets.UTF_8).length; cut++) {
            JsonStreamReader.StreamError e = feed(text, cut, new ArrayList<>());
            assertThat(e).as("cut at %d", cut).isNotNull();
            assertThat(e.code()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(e.getMessage()).contains("was expecting double-quote to start field name");
        }
    }

    /**
     * Found by fuzzing: Jackson's non-blocking parser took a member without a value when a read ended at its colon,
     * and a trailing comma when a read ended after it; refused wherever the read ends, also in a value not yet complete.
     */
    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":}", "{\"jmethod\":\"x\",\"p2ram{\u079asrnp+oc\":}", "{\"a\":{\"b\": }}",
            "[1,]", "{\"s\":\"é\"} {\"a\" :\n}", "{\"x\":{\"a\":0,}", "{\"x\":{\"a\":}", "[[1,]"})
    void aMemberWithoutAValueIsAParseErrorWhereverTheReadEnds(String text) {
        for (int cut = 0; cut <= text.getBytes(StandardCharsets.UTF_8).length; cut++) {
            List<JsonNode> values = new ArrayList<>();
            JsonStreamReader.StreamError e = feed(text, cut, values);
            assertThat(e).as("cut at %d", cut).isNotNull();
            assertThat(e.code()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(values).as("cut at %d: only the valid values before it", cut).hasSizeLessThanOrEqualTo(1);
        }
    }

    /** Found by fuzzing: after white space, a lone 0xEF failed in one read and waited for more when read alone. */
    @Test
    void aByteThatCannotStartAValueIsAParseErrorWhereverTheReadEnds() {
        byte[] text = "\n\n\n{\"a\":1}\n\u00ef".getBytes(StandardCharsets.ISO_8859_1);
        for (int cut = 0; cut <= text.length; cut++) {
            List<JsonNode> values = new ArrayList<>();
            JsonStreamReader reader = new JsonStreamReader(1 << 20);
            int c = cut;
            JsonStreamReader.StreamError e = catchThrowableOfType(JsonStreamReader.StreamError.class, () -> {
                reader.feed(text, 0, c, values::add);
                reader.feed(text, c, text.length - c, values::add);
            });
            assertThat(e).as("cut at %d", cut).isNotNull();
            assertThat(e.code()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(values).as("cut at %d", cut).hasSize(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"3.0d\":\"a\"} ", "3.0d ", "-1e5x ", "3{} ", "12\"a\" "})
    void aTopLevelNumberNotFollowedBySpaceIsAParseErrorWhereverTheReadEnds(String text) {
        for (int cut = 0; cut <= text.length(); cut++) {
            List<JsonNode> values = new ArrayList<>();
            JsonStreamReader.StreamError e = feed(text, cut, values);
            assertThat(e).as("cut at %d", cut).isNotNull();
            assertThat(e.code()).isEqualTo(RpcException.PARSE_ERROR);
            assertThat(values).as("cut at %d", cut).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":\",}\"}", "{\"a\":1, \"b\":{}}", "{\"a\":[1,2]}", "3.5 "})
    void wellFormedValuesPassWhereverTheReadEnds(String text) {
        for (int cut = 0; cut <= text.getBytes(StandardCharsets.UTF_8).length; cut++) {
            List<JsonNode> values = new ArrayList<>();
            assertThat(feed(text, cut, values)).as("cut at %d", cut).isNull();
            assertThat(values).hasSize(1);
        }
    }
}
