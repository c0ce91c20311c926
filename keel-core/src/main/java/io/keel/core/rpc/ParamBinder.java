package io.keel.core.rpc;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a request's {@code params} into a method's parameter record, naming every unknown, missing or
 * mistyped parameter in the -32602 error. A component annotated {@code @JsonProperty(required = true)} is
 * required; the others may be absent (null) and the record applies its defaults.
 */
final class ParamBinder {
    /**
     * As SPDK's decoders: a number with a fraction is not an integer (Jackson would truncate 1.5 to 1), while
     * an integral one written as a float (5.0, 1e3) is; see {@link #integralFloatsAsIntegers}.
     */
    private static final ObjectReader STRICT = Json.MAPPER.reader().without(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    private ParamBinder() {
    }

    /** Builds and caches the reader of {@code type} (see {@link RpcMethods#prepare}). */
    static void prepare(Class<?> type) {
        if (type != Void.class && type != JsonNode.class) {
            STRICT.forType(type);
        }
    }

    static <P> P bind(String method, JsonNode params, Class<P> type) {
        if (type == Void.class) {
            if (params != null && !params.isNull() && !(params.isContainerNode() && params.isEmpty())) {
                throw RpcException.invalidParams(method + " takes no parameters");
            }
            return null;
        }
        JsonNode p = params == null || params.isNull() ? Json.object() : params;
        if (!p.isObject()) {
            throw RpcException.invalidParams("params must be an object");
        }
        if (type == JsonNode.class) {
            return type.cast(p);
        }
        if (type.isRecord()) {
            checkNames(p, type.getRecordComponents());
        }
        try {
            return STRICT.forType(type).readValue(integralFloatsAsIntegers(p));
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "?" : e.getPath().getFirst().getFieldName();
            throw RpcException.invalidParams("invalid value for '" + field + "': " + e.getOriginalMessage());
        } catch (IOException | IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
    }

    /** A copy of {@code n} in which every float with an integral value (5.0, 1e3) is an integer. */
    private static JsonNode integralFloatsAsIntegers(JsonNode n) {
        if (n.isFloatingPointNumber()) {
            try {
                BigInteger i = n.decimalValue().toBigIntegerExact();
                return i.bitLength() < 64 ? LongNode.valueOf(i.longValue()) : BigIntegerNode.valueOf(i);
            } catch (ArithmeticException | NumberFormatException notIntegral) {
                return n;
            }
        }
        if (n instanceof ObjectNode o) {
            ObjectNode copy = o.objectNode();
            o.properties().forEach(e -> copy.set(e.getKey(), integralFloatsAsIntegers(e.getValue())));
            return copy;
        }
        if (n instanceof ArrayNode a) {
            ArrayNode copy = a.arrayNode(a.size());
            a.forEach(e -> copy.add(integralFloatsAsIntegers(e)));
            return copy;
        }
        return n;
    }

    private static void checkNames(JsonNode p, RecordComponent[] components) {
        Set<String> known = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        for (RecordComponent c : components) {
            JsonProperty prop = c.getAccessor().getAnnotation(JsonProperty.class); // JsonProperty cannot target record components
            String name = prop != null && !prop.value().isEmpty() ? prop.value() : Json.snake(c.getName());
            known.add(name);
            if (prop != null && prop.required() && (!p.has(name) || p.get(name).isNull())) {
                missing.add(name);
            }
        }
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
            String n = it.next();
            if (!known.contains(n)) {
                unknown.add(n);
            }
        }
        if (!unknown.isEmpty()) {
            throw RpcException.invalidParams("unknown parameter" + (unknown.size() > 1 ? "s " : " ")
                    + quote(unknown) + "; expected " + quote(new ArrayList<>(known)));
        }
        if (!missing.isEmpty()) {
            throw RpcException.invalidParams("missing required parameter" + (missing.size() > 1 ? "s " : " ")
                    + quote(missing));
        }
    }

    private static String quote(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
    }
}
