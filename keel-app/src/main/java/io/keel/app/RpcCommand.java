package io.keel.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.keel.core.rpc.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keel rpc METHOD [--param value ...] [JSON]}: call one method on Keel (or SPDK) and print the result
 * as JSON. {@code save_config} and {@code load_config} are client-side loops, as in SPDK's rpc.py.
 */
@Command(name = "rpc", mixinStandardHelpOptions = true,
        description = {"Call a JSON-RPC method: keel rpc METHOD [--name value ...] or keel rpc METHOD '{json params}'.",
                "save_config prints the whole config; load_config [FILE] replays one (stdin when no FILE)."})
final class RpcCommand implements Callable<Integer> {
    @Option(names = {"-s", "--server"}, defaultValue = "/var/tmp/keel.sock", description = "RPC socket. Default: ${DEFAULT-VALUE}")
    Path socket;

    @Option(names = {"-t", "--timeout"}, defaultValue = "60", description = "Seconds to wait for an answer. Default: ${DEFAULT-VALUE}")
    double timeoutSeconds;

    @Parameters(index = "0", description = "Method name")
    String method;

    @Parameters(index = "1..*", description = "Parameters: --name value pairs, or one JSON object")
    List<String> args = List.of();

    @Override
    public Integer call() {
        try (RpcClient client = new RpcClient(socket, (long) (timeoutSeconds * 1000))) {
            return switch (method) {
                case "save_config" -> {
                    System.out.println(Json.pretty(ConfigCommands.save(client)));
                    yield 0;
                }
                case "load_config" -> {
                    ConfigCommands.load(client, ConfigCommands.readConfig(args.isEmpty() ? null : Path.of(args.getFirst())));
                    yield 0;
                }
                default -> {
                    JsonNode result = client.call(method, params(args));
                    if (result != null && !result.isNull()) {
                        System.out.println(Json.pretty(result));
                    }
                    yield 0;
                }
            };
        } catch (RpcClient.RpcError e) {
            System.err.println("request: " + method + " failed");
            System.err.println(Json.pretty(e.error));
            return 1;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("keel rpc " + method + ": " + e.getMessage());
            return 2;
        }
    }

    /** {@code --flag nvme --current true} → {@code {"flag":"nvme","current":true}}; a lone JSON object as is. */
    static ObjectNode params(List<String> args) {
        ObjectNode p = Json.object();
        if (args.size() == 1 && args.getFirst().trim().startsWith("{")) {
            JsonNode n = parse(args.getFirst());
            if (!n.isObject()) {
                throw new IllegalArgumentException("params must be a JSON object");
            }
            return (ObjectNode) n;
        }
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("expected --name value, got '" + a + "'");
            }
            String name = a.substring(2).replace('-', '_');
            boolean hasValue = i + 1 < args.size() && !args.get(i + 1).startsWith("--");
            p.set(name, hasValue ? value(args.get(++i)) : com.fasterxml.jackson.databind.node.BooleanNode.TRUE);
        }
        return p;
    }

    /** A value is JSON when it parses as JSON (numbers, true, objects...), else a string. */
    private static JsonNode value(String v) {
        try {
            JsonNode n = Json.MAPPER.readTree(v);
            return n == null || n.isMissingNode() ? TextNode.valueOf(v) : n;
        } catch (JsonProcessingException e) {
            return TextNode.valueOf(v);
        }
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage());
        }
    }
}
