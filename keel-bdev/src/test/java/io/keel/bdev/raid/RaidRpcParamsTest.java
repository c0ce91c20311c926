package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcMethods;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The bdev_raid_* parameters bind as SPDK's do: names, order and required flags as in SPDK's schema, SPDK's
 * defaults, and its refusals with its error codes.
 */
class RaidRpcParamsTest {
    private final RpcMethods methods = new RpcMethods();
    private final AtomicReference<Object> bound = new AtomicReference<>();
    private RaidOptions options = RaidOptions.DEFAULTS;

    RaidRpcParamsTest() {
        register("bdev_raid_create", RaidRpcParams.Create.class, RaidRpcParams.Create::check);
        register("bdev_raid_delete", RaidRpcParams.Delete.class, p -> { });
        register("bdev_raid_get_bdevs", RaidRpcParams.GetBdevs.class, p -> { });
        register("bdev_raid_add_base_bdev", RaidRpcParams.AddBaseBdev.class, p -> { });
        register("bdev_raid_remove_base_bdev", RaidRpcParams.RemoveBaseBdev.class, p -> { });
        register("bdev_raid_set_options", RaidRpcParams.SetOptions.class, p -> options = p.applyTo(options));
    }

    private <P> void register(String name, Class<P> type, Consumer<P> handler) {
        methods.register(name, type, (p, call) -> {
            handler.accept(p);
            bound.set(p);
            call.respond(true);
        });
    }

    /** Calls {@code method} with {@code params} (JSON) and returns the answer. */
    private JsonNode call(String method, String params) throws Exception {
        ObjectNode request = Json.object().put("jsonrpc", "2.0").put("id", 1).put("method", method);
        request.set("params", Json.MAPPER.readTree(params));
        AtomicReference<JsonNode> answer = new AtomicReference<>();
        methods.dispatch(request, answer::set);
        return answer.get();
    }

    @SuppressWarnings("unchecked")
    private <P> P bind(String method, String params) throws Exception {
        bound.set(null);
        JsonNode answer = call(method, params);
        assertThat(answer.has("result")).as(answer.toString()).isTrue();
        return (P) bound.get();
    }

    /** The error's code; its message must contain {@code messagePart}. */
    private int error(String method, String params, String messagePart) throws Exception {
        JsonNode answer = call(method, params);
        assertThat(answer.has("error")).as(answer.toString()).isTrue();
        assertThat(answer.get("error").get("message").asText()).contains(messagePart);
        return answer.get("error").get("code").asInt();
    }

    @Test
    void createWithEveryParameter() throws Exception {
        RaidRpcParams.Create p = bind("bdev_raid_create", """
                {"name": "R0", "strip_size_kb": 64, "raid_level": "raid0", "base_bdevs": ["M2", "M3"],
                 "uuid": "d9bf8adf-42ac-4d22-b8e4-6db9a975efbf", "superblock": true}""");
        assertThat(p).isEqualTo(new RaidRpcParams.Create("R0", 64, RaidLevel.RAID0, List.of("M2", "M3"),
                UUID.fromString("d9bf8adf-42ac-4d22-b8e4-6db9a975efbf"), true));
    }

    @Test
    void createDefaultsAsSpdk() throws Exception {
        RaidRpcParams.Create p = bind("bdev_raid_create", """
                {"name": "R1", "raid_level": "raid1", "base_bdevs": ["M0", "M1"]}""");
        assertThat(p.stripSizeKb()).as("raid1 takes none").isZero();
        assertThat(p.uuid()).as("the bdev layer chooses").isNull();
        assertThat(p.superblock()).isFalse();
    }

    @Test
    void levelAliases() throws Exception {
        String create = """
                {"name": "R", "strip_size_kb": 4, "raid_level": "%s", "base_bdevs": ["A", "B"]}""";
        assertThat(this.<RaidRpcParams.Create>bind("bdev_raid_create", create.formatted("0")).raidLevel())
                .isEqualTo(RaidLevel.RAID0);
        assertThat(this.<RaidRpcParams.Create>bind("bdev_raid_create", create.formatted("concat")).raidLevel())
                .isEqualTo(RaidLevel.CONCAT);
        assertThat(this.<RaidRpcParams.Create>bind("bdev_raid_create",
                "{\"name\": \"R\", \"raid_level\": \"1\", \"base_bdevs\": [\"A\", \"B\"]}").raidLevel())
                .isEqualTo(RaidLevel.RAID1);
        assertThat(error("bdev_raid_create", create.formatted("raid5f"), "unsupported raid level 'raid5f'"))
                .isEqualTo(-32602);
        assertThat(error("bdev_raid_create", create.formatted("raid6"), "supported: raid0, 0, raid1, 1, concat"))
                .isEqualTo(-32602);
    }

    @Test
    void createRefusalsWithSpdksCodes() throws Exception {
        assertThat(error("bdev_raid_create", "{\"name\": \"R\", \"base_bdevs\": [\"A\"]}", "raid_level"))
                .isEqualTo(-32602);
        assertThat(error("bdev_raid_create", """
                {"name": "R", "raid_level": "raid1", "base_bdevs": ["A", "B"], "stripe": 4}""", "stripe"))
                .isEqualTo(-32602);
        assertThat(error("bdev_raid_create", """
                {"name": "R", "strip_size_kb": -1, "raid_level": "raid0", "base_bdevs": ["A"]}""", "uint32"))
                .isEqualTo(-32602);
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            many.add("B" + i);
        }
        assertThat(error("bdev_raid_create", Json.write(Json.object().put("name", "R").put("strip_size_kb", 4)
                .put("raid_level", "raid0").set("base_bdevs", Json.tree(many))), "at most 255")).isEqualTo(-32602);

        assertThat(error("bdev_raid_create", """
                {"name": "R", "raid_level": "raid1", "base_bdevs": ["A", ""]}""",
                "The base bdev name cannot be empty: Invalid argument")).isEqualTo(-22);
        assertThat(error("bdev_raid_create", """
                {"name": "R1", "strip_size_kb": 64, "raid_level": "raid1", "base_bdevs": ["A", "B"]}""",
                "Failed to create RAID bdev R1: Invalid argument (raid1 takes no strip size)")).isEqualTo(-22);
        assertThat(error("bdev_raid_create", """
                {"name": "R0", "raid_level": "raid0", "base_bdevs": ["A", "B"]}""",
                "strip size 0 KiB is not a power of two")).isEqualTo(-22);
        assertThat(error("bdev_raid_create", """
                {"name": "C0", "strip_size_kb": 48, "raid_level": "concat", "base_bdevs": ["A"]}""",
                "strip size 48 KiB")).isEqualTo(-22);
        assertThat(error("bdev_raid_create", """
                {"name": "R1", "raid_level": "raid1", "base_bdevs": ["A"]}""",
                "raid1 needs at least 2 base bdevs")).isEqualTo(-22);
        assertThat(error("bdev_raid_create", Json.write(Json.object().put("name", "n".repeat(64))
                .put("raid_level", "raid1").set("base_bdevs", Json.tree(List.of("A", "B")))),
                "longer than 63 bytes")).isEqualTo(-22);
    }

    @Test
    void theOtherMethods() throws Exception {
        assertThat(this.<RaidRpcParams.Delete>bind("bdev_raid_delete", "{\"name\": \"R1\"}"))
                .isEqualTo(new RaidRpcParams.Delete("R1", false));
        assertThat(this.<RaidRpcParams.Delete>bind("bdev_raid_delete", "{\"name\": \"R1\", \"clear_sb\": true}"))
                .isEqualTo(new RaidRpcParams.Delete("R1", true));
        assertThat(this.<RaidRpcParams.GetBdevs>bind("bdev_raid_get_bdevs", "{\"category\": \"configuring\"}"))
                .isEqualTo(new RaidRpcParams.GetBdevs(RaidCategory.CONFIGURING));
        assertThat(error("bdev_raid_get_bdevs", "{}", "category")).isEqualTo(-32602);
        assertThat(error("bdev_raid_get_bdevs", "{\"category\": \"ALL\"}", "one of all, online, configuring, offline"))
                .isEqualTo(-32602);
        assertThat(this.<RaidRpcParams.AddBaseBdev>bind("bdev_raid_add_base_bdev",
                "{\"raid_bdev\": \"R1\", \"base_bdev\": \"M5\"}")).isEqualTo(new RaidRpcParams.AddBaseBdev("R1", "M5"));
        assertThat(error("bdev_raid_add_base_bdev", "{\"raid_bdev\": \"R1\"}", "base_bdev")).isEqualTo(-32602);
        assertThat(this.<RaidRpcParams.RemoveBaseBdev>bind("bdev_raid_remove_base_bdev", "{\"name\": \"M1\"}"))
                .isEqualTo(new RaidRpcParams.RemoveBaseBdev("M1"));
    }

    @Test
    void setOptionsChangesOnlyWhatIsGiven() throws Exception {
        bind("bdev_raid_set_options", "{\"process_max_bandwidth_mb_sec\": 4}");
        assertThat(options).isEqualTo(new RaidOptions(1024, 4));
        bind("bdev_raid_set_options", "{\"process_window_size_kb\": 2048}");
        assertThat(options).as("the bandwidth set before stays").isEqualTo(new RaidOptions(2048, 4));
        bind("bdev_raid_set_options", "{}");
        assertThat(options).isEqualTo(new RaidOptions(2048, 4));
        assertThat(error("bdev_raid_set_options", "{\"process_window_size_kb\": 0}", "Invalid argument"))
                .isEqualTo(-22);
        assertThat(error("bdev_raid_set_options", "{\"process_max_bandwidth_mb_sec\": -5}", "uint32"))
                .isEqualTo(-32602);
        assertThat(options).as("a refused call changes nothing").isEqualTo(new RaidOptions(2048, 4));
        assertThat(RaidOptions.DEFAULTS).isEqualTo(new RaidOptions(1024, 0));
    }

    @Test
    void parametersAsSpdksSchemaHasThem() {
        assertMatchesSchema("bdev_raid_create", RaidRpcParams.Create.class);
        assertMatchesSchema("bdev_raid_delete", RaidRpcParams.Delete.class);
        assertMatchesSchema("bdev_raid_get_bdevs", RaidRpcParams.GetBdevs.class);
        assertMatchesSchema("bdev_raid_add_base_bdev", RaidRpcParams.AddBaseBdev.class);
        assertMatchesSchema("bdev_raid_remove_base_bdev", RaidRpcParams.RemoveBaseBdev.class);
        assertMatchesSchema("bdev_raid_set_options", RaidRpcParams.SetOptions.class);
    }

    /** Same names in the same order, the same ones required. */
    private static void assertMatchesSchema(String method, Class<? extends Record> params) {
        List<String> spdk = new ArrayList<>();
        for (JsonNode p : SpdkReference.method(method).get("params")) {
            spdk.add(p.get("name").asText() + (p.path("required").asBoolean() ? " (required)" : ""));
        }
        List<String> keel = new ArrayList<>();
        for (RecordComponent c : params.getRecordComponents()) {
            JsonProperty prop = c.getAccessor().getAnnotation(JsonProperty.class);
            keel.add(Json.snake(c.getName()) + (prop != null && prop.required() ? " (required)" : ""));
        }
        assertThat(keel).as(method).containsExactlyElementsOf(spdk);
    }

    @Test
    void enumNamesAsSpdksSchemaHasThem() {
        for (JsonNode f : SpdkReference.schemaEnum("bdev_raid_level").get("fields")) {
            String name = f.get("name").asText();
            boolean raid5f = f.get("value").asText().endsWith("RAID5F");
            assertThat(RaidLevel.fromName(name)).as(name).matches(l -> raid5f ? l == null
                    : f.get("value").asText().endsWith(l.name()));
        }
        List<String> categories = new ArrayList<>();
        SpdkReference.schemaEnum("bdev_raid_state").get("fields").forEach(f -> categories.add(f.get("name").asText()));
        assertThat(categories).containsExactlyInAnyOrderElementsOf(
                java.util.Arrays.stream(RaidCategory.values()).map(RaidCategory::spdkName).toList());
    }
}
