package io.keel.core.rpc;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import java.lang.reflect.RecordComponent;
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
    private ParamBinder() {
    }

    static <P> P bind(String method, JsonNode params, Class<P> type) {
        if (type == Void.class) {
            if (params != null && !params.isNull() && !params.isEmpty()) {
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
            return Json.MAPPER.treeToValue(p, type);
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "?" : e.getPath().getFirst().getFieldName();
            throw RpcException.invalidParams("invalid value for '" + field + "': " + e.getOriginalMessage());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw RpcException.invalidParams(e.getMessage());
        }
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
