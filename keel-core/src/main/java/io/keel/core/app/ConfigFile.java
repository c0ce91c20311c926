package io.keel.core.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcMethods;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SPDK's JSON config format: {@code {"subsystems":[{"subsystem":"bdev","config":[{"method":..,"params":..}]}]}}.
 * Loading replays each entry as an RPC, in file order, one after the other.
 */
public final class ConfigFile {
    private ConfigFile() {
    }

    /** Reads every entry of every subsystem, in file order. */
    public static List<ConfigEntry> read(Path file) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return entries(root);
    }

    static List<ConfigEntry> entries(JsonNode root) {
        JsonNode subsystems = root == null ? null : root.get("subsystems");
        if (subsystems == null || !subsystems.isArray()) {
            throw new IllegalArgumentException("a config needs a \"subsystems\" array");
        }
        List<ConfigEntry> out = new ArrayList<>();
        for (JsonNode s : subsystems) {
            JsonNode config = s.get("config");
            if (config == null || config.isNull()) {
                continue;
            }
            if (!config.isArray()) {
                throw new IllegalArgumentException("subsystem " + s.path("subsystem").asText("?") + ": \"config\" must be an array");
            }
            for (JsonNode e : config) {
                JsonNode method = e.get("method");
                if (method == null || !method.isTextual()) {
                    throw new IllegalArgumentException("config entry without a method: " + e);
                }
                out.add(new ConfigEntry(method.asText(), e.get("params")));
            }
        }
        return out;
    }

    /**
     * Calls each entry's method in turn, each after the previous answered; stops at the first error.
     * {@code done} gets null or a description of the failed entry. {@code post} runs what follows an answer on the
     * application thread, as a message of its own: one entry per turn of the reactor, so a long config (each
     * method's first call initialises its classes) never holds it for the whole file.
     */
    static void apply(RpcMethods methods, List<ConfigEntry> entries, Consumer<Runnable> post, Consumer<String> done) {
        applyFrom(methods, entries, 0, post, done);
    }

    private static void applyFrom(RpcMethods methods, List<ConfigEntry> entries, int i, Consumer<Runnable> post,
            Consumer<String> done) {
        if (i == entries.size()) {
            done.accept(null);
            return;
        }
        ConfigEntry e = entries.get(i);
        ObjectNode req = Json.object();
        req.put("jsonrpc", "2.0");
        req.put("method", e.method());
        req.put("id", i);
        if (e.params() != null && !e.params().isNull()) {
            req.set("params", e.params());
        }
        methods.dispatch(req, answer -> post.accept(() -> {
            JsonNode err = answer.get("error");
            if (err != null) {
                done.accept(e.method() + " failed: " + err.path("message").asText() + " (" + err.path("code").asInt() + ")");
            } else {
                applyFrom(methods, entries, i + 1, post, done);
            }
        }));
    }
}
