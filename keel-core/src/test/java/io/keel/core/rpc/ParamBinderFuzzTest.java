package io.keel.core.rpc;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.UUID;

/**
 * Coverage-guided fuzzing of the parameter binder: the first byte picks a parameter type shaped like Keel's RPC
 * records, the rest is the JSON of {@code params}. Whatever the params, only -32602 "Invalid parameters: ..." may
 * come out; a bound record has every required component, and binding what it serialises to gives it back.
 */
class ParamBinderFuzzTest {
    record Scalars(@JsonProperty(required = true) String name, Long size, Integer depth, Boolean flag, UUID uuid) {
    }

    record Primitives(@JsonProperty(required = true) int first, long second, boolean third) {
    }

    record Inner(Long nsid, String bdevName, UUID uuid) {
    }

    record Nested(@JsonProperty(required = true) String nqn, @JsonProperty(required = true) Inner namespace,
            List<String> names) {
    }

    /** A record that checks and defaults in its constructor, as some handlers' records do. */
    record Checked(@JsonProperty(required = true) Long blockSize, Integer times) {
        Checked {
            if (blockSize <= 0) {
                throw new IllegalArgumentException("block_size must be positive");
            }
            times = times == null ? 1 : times;
        }
    }

    private static final List<Class<?>> TYPES = List.of(Scalars.class, Primitives.class, Nested.class, Checked.class,
            Void.class, JsonNode.class);

    @FuzzTest
    void bind(byte[] input) {
        if (input.length == 0) {
            return;
        }
        Class<?> type = TYPES.get((input[0] & 0xFF) % TYPES.size());
        JsonNode params;
        try {
            params = Json.MAPPER.readTree(input, 1, input.length - 1);
        } catch (IOException notJson) {
            return;
        }
        if (params.isMissingNode()) {
            params = null; // no "params" member
        }
        Object bound;
        try {
            bound = ParamBinder.bind("fuzz_method", params, type);
        } catch (RpcException e) {
            if (e.code() != RpcException.INVALID_PARAMS || !e.getMessage().startsWith("Invalid parameters: ")) {
                throw new AssertionError("not a -32602 error: " + e.code() + " " + e.getMessage(), e);
            }
            return;
        }
        if (type.isRecord()) {
            check(type.isInstance(bound), "bound " + bound + " is not a " + type.getSimpleName());
            requiredPresent(bound);
            Object again = ParamBinder.bind("fuzz_method", Json.tree(bound), type);
            check(bound.equals(again), "round trip changed " + bound + " into " + again);
        } else if (type == Void.class) {
            check(bound == null && (params == null || params.isNull() || params.isContainerNode() && params.isEmpty()),
                    "Void took " + params);
        } else {
            check(params == null || params.isNull() ? bound.equals(Json.object()) : bound == params, "JsonNode params");
        }
    }

    private static void requiredPresent(Object record) {
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
            try {
                check(p == null || !p.required() || c.getAccessor().invoke(record) != null, "required " + c + " null");
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
