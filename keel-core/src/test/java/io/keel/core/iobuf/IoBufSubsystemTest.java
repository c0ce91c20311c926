package io.keel.core.iobuf;

import io.keel.core.app.TestRpcClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.OnThread;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The iobuf subsystem in a real application: iobuf_set_options only before framework_start_init (the pools
 * are made at init), validated as SPDK validates; framework_get_config saves one iobuf_set_options entry with
 * every value, which loads back to the same state; iobuf_get_stats and keel_iobuf_get_pools at runtime; other
 * modules reach the pools through IoBufSubsystem.of(app) while the app runs.
 */
class IoBufSubsystemTest {
    private static final String SPDK_DEFAULT_CONFIG = """
            [{"method":"iobuf_set_options","params":{"small_pool_count":8192,"large_pool_count":1024,\
            "small_bufsize":8192,"large_bufsize":135168,"enable_numa":false}}]""";

    @TempDir
    Path dir;

    private AppOptions options() {
        return AppOptions.defaults().withCores(CpuMask.of(0, 1)).withInterruptMode(true).withRpcSocket(dir.resolve("keel.sock"));
    }

    @Test
    void setOptionsOnlyAtStartupThenConfigStatsAndPoolsAtRuntime() throws Exception {
        KeelApp app = KeelApp.create(options().withWaitForRpc(true));
        app.start();
        try (TestRpcClient c = new TestRpcClient(awaitSocket(app))) {
            assertThatThrownBy(() -> IoBufSubsystem.of(app)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not initialised");

            JsonNode tooFew = c.call("iobuf_set_options", Map.of("small_pool_count", 10));
            assertThat(tooFew.get("error").get("code").asInt()).isEqualTo(-32602);
            assertThat(tooFew.get("error").get("message").asText()).contains("small_pool_count must be at least 64");
            JsonNode smallBuf = c.call("iobuf_set_options", Map.of("large_bufsize", 4096));
            assertThat(smallBuf.get("error").get("message").asText()).contains("large_bufsize must be at least 8192");
            JsonNode negative = c.call("iobuf_set_options", Map.of("small_bufsize", -1));
            assertThat(negative.get("error").get("code").asInt()).isEqualTo(-32602);
            JsonNode unknown = c.call("iobuf_set_options", Map.of("small_pool_size", 100));
            assertThat(unknown.get("error").get("message").asText()).contains("unknown parameter 'small_pool_size'");

            assertThat(c.result("iobuf_set_options", Map.of("small_pool_count", 128, "large_pool_count", 16,
                    "small_bufsize", 6000)).asBoolean()).isTrue();
            assertThat(c.result("iobuf_set_options", Map.of("enable_numa", false)).asBoolean()).as("partial update").isTrue();
            JsonNode early = c.call("iobuf_get_stats", null);
            assertThat(early.get("error").get("code").asInt()).as("stats only at runtime").isEqualTo(-1);

            assertThat(c.result("framework_start_init", null).asBoolean()).isTrue();
            assertThat(c.result("framework_wait_init", null).asBoolean()).isTrue();

            JsonNode late = c.call("iobuf_set_options", Map.of("small_pool_count", 256));
            assertThat(late.get("error").get("code").asInt()).as("refused after init, as SPDK").isEqualTo(-1);
            assertThat(c.result("framework_get_config", Map.of("name", "iobuf"))).isEqualTo(Json.MAPPER.readTree("""
                    [{"method":"iobuf_set_options","params":{"small_pool_count":128,"large_pool_count":16,\
                    "small_bufsize":8192,"large_bufsize":135168,"enable_numa":false}}]"""));

            IoBuf iobuf = IoBufSubsystem.of(app);
            assertThat(iobuf.smallBufsize()).as("rounded up to 4096 at init").isEqualTo(8192);
            assertThat(iobuf.smallPoolAvailable()).isEqualTo(128);
            // a module (here: "bdev") opens a channel on the app thread and takes a buffer
            IoBufChannel ch = OnThread.call(app.appThread(), () -> iobuf.channel("bdev", 128, 16));
            MemorySegment buf = OnThread.call(app.appThread(), () -> ch.get(4096, null));
            JsonNode stats = c.result("iobuf_get_stats", null);
            assertThat(stats).isEqualTo(Json.MAPPER.readTree("""
                    [{"module":"bdev","small_pool":{"cache":0,"main":1,"retry":0,"cache_size":128},\
                    "large_pool":{"cache":0,"main":0,"retry":0,"cache_size":16}}]"""));
            JsonNode pools = c.result("keel_iobuf_get_pools", null);
            assertThat(pools).isEqualTo(Json.MAPPER.readTree("""
                    {"small_pool":{"count":128,"bufsize":8192,"free":127,"cached":0,"waiting":0},\
                    "large_pool":{"count":16,"bufsize":135168,"free":16,"cached":0,"waiting":0}}"""));
            assertThat(c.result("rpc_get_methods", null).toString())
                    .contains("iobuf_set_options", "iobuf_get_stats", "keel_iobuf_get_pools");
            OnThread.run(app.appThread(), () -> {
                ch.put(buf);
                ch.close(); // as the module's own fini would, before iobuf's
            });
        }
        app.shutdown();
        assertThat(app.awaitExit(15_000)).isZero();
        assertThatThrownBy(() -> IoBufSubsystem.of(app)).as("pools freed at fini").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void withoutOptionsTheSavedConfigIsSpdksDefault() throws Exception {
        KeelApp app = KeelApp.create(options());
        app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> app.state() == KeelApp.State.RUNNING);
        try (TestRpcClient c = new TestRpcClient(app.options().rpcSocket())) {
            assertThat(c.result("framework_get_config", Map.of("name", "iobuf")))
                    .isEqualTo(Json.MAPPER.readTree(SPDK_DEFAULT_CONFIG));
            assertThat(c.result("framework_get_subsystems", null).findValuesAsText("subsystem")).contains("iobuf");
            assertThat(c.result("iobuf_get_stats", null)).as("no module yet").isEmpty();
            IoBuf iobuf = IoBufSubsystem.of(app);
            assertThat(iobuf.smallPoolAvailable()).isEqualTo(8192);
            assertThat(iobuf.largePoolAvailable()).isEqualTo(1024);
        }
        app.shutdown();
        assertThat(app.awaitExit(10_000)).isZero();
    }

    @Test
    void aSavedConfigLoadsBackToTheSameState() throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {"subsystems":[{"subsystem":"iobuf","config":[{"method":"iobuf_set_options","params":\
                {"small_pool_count":100,"large_pool_count":10,"small_bufsize":4096,"large_bufsize":65536,\
                "enable_numa":false}}]}]}""");
        KeelApp app = KeelApp.create(options().withConfig(config));
        app.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> app.state() == KeelApp.State.RUNNING);
        try (TestRpcClient c = new TestRpcClient(app.options().rpcSocket())) {
            JsonNode saved = c.result("framework_get_config", Map.of("name", "iobuf"));
            assertThat(saved).isEqualTo(Json.MAPPER.readTree(Files.readString(config)).get("subsystems").get(0).get("config"));
            assertThat(IoBufSubsystem.of(app).options())
                    .isEqualTo(new IoBufOptions(100, 10, 4096, 65536, false));
            assertThat(IoBufSubsystem.of(app).largePoolAvailable()).isEqualTo(10);
        }
        app.shutdown();
        assertThat(app.awaitExit(10_000)).isZero();
    }

    private static Path awaitSocket(KeelApp app) {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.options().rpcSocket()));
        return app.options().rpcSocket();
    }
}
