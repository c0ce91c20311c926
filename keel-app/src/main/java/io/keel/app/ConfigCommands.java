package io.keel.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * {@code save_config} and {@code load_config}: client-side loops over {@code framework_get_subsystems},
 * {@code framework_get_config} and {@code rpc_get_methods}, as SPDK's rpc.py does them, so either client
 * saves and loads against either server.
 */
final class ConfigCommands {
    private ConfigCommands() {
    }

    static ObjectNode save(RpcClient client) throws IOException, RpcClient.RpcError {
        ObjectNode root = Json.object();
        ArrayNode subsystems = root.putArray("subsystems");
        for (JsonNode s : client.call("framework_get_subsystems", null)) {
            String name = s.get("subsystem").asText();
            ObjectNode params = Json.object();
            params.put("name", name);
            ObjectNode entry = subsystems.addObject();
            entry.put("subsystem", name);
            entry.set("config", client.call("framework_get_config", params));
        }
        return root;
    }

    static JsonNode readConfig(Path file) throws IOException {
        return file == null ? Json.MAPPER.readTree(System.in) : Json.MAPPER.readTree(file.toFile());
    }

    /**
     * Replays a config as rpc.py does: every method must be known; then, round after round, calls the entries
     * allowed in the current state, and {@code framework_start_init} whenever it is allowed (a target started
     * with {@code --wait-for-rpc} is brought up); stops when a round calls nothing. Entries left then are
     * reported on stderr (their state has passed), as rpc.py reports them.
     */
    static void load(RpcClient client, JsonNode config) throws IOException, RpcClient.RpcError {
        if (config == null || !config.path("subsystems").isArray()) {
            throw new IllegalArgumentException("a config needs a \"subsystems\" array");
        }
        List<JsonNode> left = new ArrayList<>();
        for (JsonNode s : config.get("subsystems")) {
            s.path("config").forEach(left::add);
        }
        Set<String> known = methods(client, false);
        for (JsonNode e : left) {
            if (!known.contains(e.path("method").asText())) {
                throw new IllegalArgumentException("unknown method in the config: " + e.path("method").asText());
            }
        }
        boolean progress = true;
        while (progress) {
            Set<String> allowed = methods(client, true);
            progress = false;
            for (Iterator<JsonNode> it = left.iterator(); it.hasNext(); ) {
                JsonNode e = it.next();
                String method = e.path("method").asText();
                if (allowed.contains(method)) {
                    client.call(method, e.get("params"));
                    it.remove();
                    progress = true;
                }
            }
            if (allowed.contains("framework_start_init")) {
                startInit(client);
                progress = true;
            }
        }
        if (!left.isEmpty()) {
            System.err.println("Some config entries were skipped because the state that allows them has passed: "
                    + left.stream().map(e -> e.path("method").asText()).toList());
        }
    }

    private static void startInit(RpcClient client) throws IOException, RpcClient.RpcError {
        client.call("framework_start_init", null);
        client.call("framework_wait_init", null);
    }

    private static Set<String> methods(RpcClient client, boolean current) throws IOException, RpcClient.RpcError {
        ObjectNode p = Json.object();
        if (current) {
            p.put("current", true);
        }
        Set<String> out = new HashSet<>();
        client.call("rpc_get_methods", p).forEach(n -> out.add(n.asText()));
        return out;
    }
}
