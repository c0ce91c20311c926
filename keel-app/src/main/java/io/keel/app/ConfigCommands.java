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
     * Calls every entry whose method is allowed now; when only entries for after initialisation remain,
     * calls {@code framework_start_init} and goes on; fails if entries remain that nothing allows. A target
     * still waiting for {@code framework_start_init} at the end is started, as a config file at start would.
     */
    static void load(RpcClient client, JsonNode config) throws IOException, RpcClient.RpcError {
        if (config == null || !config.path("subsystems").isArray()) {
            throw new IllegalArgumentException("a config needs a \"subsystems\" array");
        }
        List<JsonNode> left = new ArrayList<>();
        for (JsonNode s : config.get("subsystems")) {
            s.path("config").forEach(left::add);
        }
        Set<String> allowed = allowed(client);
        while (!left.isEmpty()) {
            boolean progress = false;
            for (Iterator<JsonNode> it = left.iterator(); it.hasNext(); ) {
                JsonNode e = it.next();
                String method = e.path("method").asText();
                if (allowed.contains(method)) {
                    client.call(method, e.get("params"));
                    it.remove();
                    progress = true;
                }
            }
            if (left.isEmpty()) {
                break;
            }
            if (allowed.contains("framework_start_init")) {
                startInit(client);
                allowed = allowed(client);
            } else if (!progress) {
                List<String> names = left.stream().map(e -> e.path("method").asText()).toList();
                throw new IllegalArgumentException("some config entries cannot be executed now: " + names);
            }
        }
        if (allowed.contains("framework_start_init")) {
            startInit(client);
        }
    }

    private static void startInit(RpcClient client) throws IOException, RpcClient.RpcError {
        client.call("framework_start_init", null);
        client.call("framework_wait_init", null);
    }

    private static Set<String> allowed(RpcClient client) throws IOException, RpcClient.RpcError {
        ObjectNode p = Json.object();
        p.put("current", true);
        Set<String> out = new HashSet<>();
        client.call("rpc_get_methods", p).forEach(n -> out.add(n.asText()));
        return out;
    }
}
