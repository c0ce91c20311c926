package io.keel.bdev.raid;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** SPDK v26.05's recorded answers and JSON-RPC schema, in ../shared/reference beside the clone (as CI has it). */
final class SpdkReference {
    private static final Path DIR = Path.of(System.getProperty("keel.root", "..")).toAbsolutePath()
            .resolve("../shared/reference").normalize();

    private SpdkReference() {
    }

    /** A recorded answer, {@code spdk-rpc-samples/NAME}. */
    static JsonNode sample(String name) {
        return read(DIR.resolve("spdk-rpc-samples").resolve(name));
    }

    /** The schema entry of {@code method} ({@code {"name":..,"params":[..]}}). */
    static JsonNode method(String method) {
        return entry("methods", method);
    }

    /** The schema entry of an enum ({@code {"name":..,"fields":[{"name":..},..]}}). */
    static JsonNode schemaEnum(String name) {
        return entry("enums", name);
    }

    private static JsonNode entry(String kind, String name) {
        for (JsonNode e : read(DIR.resolve("spdk-rpc-schema.json")).get(kind)) {
            if (e.get("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("SPDK's schema has no " + kind + " entry " + name);
    }

    private static JsonNode read(Path file) {
        if (!Files.exists(file)) {
            throw new AssertionError("no SPDK reference at " + file + " (CI has it as ../shared/reference beside the clone)");
        }
        try {
            return Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
