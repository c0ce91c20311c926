package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bdev and iobuf method through `keel rpc` against `keel start`, then a restart from the saved config. */
class BdevEndToEndIT {
    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    private Process start(Path sock, Path log, String... extra) {
        List<String> args = new ArrayList<>(List.of("start", "--bare", "--interrupt-mode", "-m", "0x3", "-r", sock.toString()));
        args.addAll(List.of(extra));
        try {
            Process p = KeelProcess.start(log, args.toArray(String[]::new));
            started.add(p);
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(sock) || !p.isAlive());
            assertThat(p.isAlive()).as("log:\n%s", KeelProcess.log(log)).isTrue();
            return p;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> names(JsonNode bdevs) {
        List<String> out = new ArrayList<>();
        bdevs.forEach(b -> out.add(b.get("name").asText()));
        return out;
    }

    private JsonNode ok(Path sock, String... args) throws Exception {
        KeelProcess.Result r = rpc(sock, args);
        assertThat(r.exitCode()).as("keel rpc %s: %s", String.join(" ", args), r.err()).isZero();
        return r.out().isBlank() ? null : Json.MAPPER.readTree(r.out());
    }

    private static KeelProcess.Result rpc(Path sock, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("rpc", "-s", sock.toString()));
        all.addAll(List.of(args));
        return KeelProcess.run(all.toArray(String[]::new));
    }

    private void fails(Path sock, String code, String... args) throws Exception {
        KeelProcess.Result r = rpc(sock, args);
        assertThat(r.exitCode()).as("keel rpc %s should fail", String.join(" ", args)).isNotZero();
        assertThat(r.err()).contains("\"code\" : " + code);
    }

    @Test
    void everyMethodThroughKeelRpcAndARestartIntoTheSameStack() throws Exception {
        Path sock = dir.resolve("k.sock");
        Path img = dir.resolve("disk.img");
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), (8 << 20) - 1);
        }
        Process keel = start(sock, dir.resolve("first.log"));

        assertThat(ok(sock, "bdev_malloc_create", "--block-size", "4096", "--num-blocks", "2048").asText()).isEqualTo("Malloc0");
        assertThat(ok(sock, "bdev_null_create", "--name", "Null0", "--block-size", "512", "--num-blocks", "4096").asText())
                .isEqualTo("Null0");
        assertThat(ok(sock, "bdev_null_resize", "--name", "Null0", "--new-size", "4").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_uring_create", "--filename", img.toString(), "--name", "Uring0", "--block-size", "4096")
                .asText()).isEqualTo("Uring0");
        assertThat(ok(sock, "bdev_error_create", "--base-name", "Malloc0").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_error_inject_error", "--name", "EE_Malloc0", "--io-type", "read", "--error-type",
                "failure", "--num", "2").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_delay_create", "--name", "Delay0", "--base-bdev-name", "Null0", "--avg-read-latency", "10",
                "--p99-read-latency", "100", "--avg-write-latency", "10", "--p99-write-latency", "100").asText())
                .isEqualTo("Delay0");
        assertThat(ok(sock, "bdev_delay_update_latency", "--delay-bdev-name", "Delay0", "--latency-type", "avg_read",
                "--latency-us", "20").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_passthru_create", "--name", "Pass0", "--base-bdev-name", "Uring0").asText()).isEqualTo("Pass0");

        JsonNode bdevs = ok(sock, "bdev_get_bdevs");
        assertThat(names(bdevs))
                .containsExactlyInAnyOrder("Malloc0", "Null0", "Uring0", "EE_Malloc0", "Delay0", "Pass0");
        assertThat(ok(sock, "bdev_get_bdevs", "--name", "Malloc0").get(0).get("claimed").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_get_iostat", "{\"names\": [\"Null0\"]}").get("bdevs").get(0).get("name").asText())
                .isEqualTo("Null0");
        assertThat(ok(sock, "bdev_wait_for_examine").asBoolean()).isTrue();
        assertThat(ok(sock, "iobuf_get_stats").isArray()).isTrue();

        fails(sock, "-1", "bdev_set_options", "--bdev-io-pool-size", "1024");   // startup only, as SPDK
        fails(sock, "-1", "iobuf_set_options", "--small-pool-count", "1024");
        fails(sock, "-32602", "bdev_malloc_create", "--block-size", "4096");     // num_blocks missing
        fails(sock, "-32602", "bdev_null_create", "--name", "N", "--block-size", "512", "--num-blocks", "8", "--bogus", "1");
        fails(sock, "-19", "bdev_malloc_delete", "--name", "NoSuch");
        fails(sock, "-17", "bdev_null_create", "--name", "Null0", "--block-size", "512", "--num-blocks", "8");

        JsonNode saved = ok(sock, "save_config");
        Path config = dir.resolve("config.json");
        Files.writeString(config, Json.pretty(saved));

        keel.destroy();
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(keel.exitValue()).isZero();

        Process again = start(sock, dir.resolve("restart.log"), "-c", config.toString());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> ok(sock, "framework_wait_init").asBoolean());
        assertThat(names(ok(sock, "bdev_get_bdevs")))
                .containsExactlyInAnyOrder("Malloc0", "Null0", "Uring0", "EE_Malloc0", "Delay0", "Pass0");
        assertThat(ok(sock, "save_config")).as("the bdev stack round-trips").isEqualTo(saved);

        // deleting claimed bases takes what stands on them down too, as in SPDK
        assertThat(ok(sock, "bdev_malloc_delete", "--name", "Malloc0").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_uring_delete", "--name", "Uring0").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_delay_delete", "--name", "Delay0").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_null_delete", "--name", "Null0").asBoolean()).isTrue();
        assertThat(ok(sock, "bdev_get_bdevs")).isEmpty();
        again.destroy();
        assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).isZero();
    }
}
