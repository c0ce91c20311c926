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

/** `keel start` as its own process, driven by `keel rpc`, stopped by SIGTERM, restarted from its saved config. */
class KeelEndToEndIT {
    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    private Process startKeel(Path sock, Path log, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("start", "--bare", "--interrupt-mode", "-m", "0x3", "-r", sock.toString()));
        args.addAll(List.of(extra));
        Process p = KeelProcess.start(log, args.toArray(String[]::new));
        started.add(p);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(sock) || !p.isAlive());
        assertThat(p.isAlive()).as("keel start is running; log:\n%s", KeelProcess.log(log)).isTrue();
        return p;
    }

    private JsonNode rpc(Path sock, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("rpc", "-s", sock.toString()));
        all.addAll(List.of(args));
        KeelProcess.Result r = KeelProcess.run(all.toArray(String[]::new));
        assertThat(r.exitCode()).as("keel rpc %s: %s", String.join(" ", args), r.err()).isZero();
        return r.out().isBlank() ? null : Json.MAPPER.readTree(r.out());
    }

    @Test
    void startDriveSaveStopAndRestartIntoTheSameState() throws Exception {
        Path sock = dir.resolve("keel.sock");
        Path log1 = dir.resolve("first.log");
        Process keel = startKeel(sock, log1);

        assertThat(rpc(sock, "spdk_get_version").get("version").asText()).startsWith("Keel v");
        JsonNode reactors = rpc(sock, "framework_get_reactors").get("reactors");
        assertThat(reactors.findValuesAsText("lcore")).containsExactly("0", "1");
        assertThat(reactors.get(0).get("in_interrupt").asBoolean()).isTrue();
        assertThat(threadNames(keel.pid())).as("reactor OS threads are named as SPDK names them")
                .contains("reactor_0", "reactor_1");

        assertThat(rpc(sock, "log_set_flag", "--flag", "rpc").asBoolean()).isTrue();
        assertThat(rpc(sock, "log_get_flags").get("rpc").asBoolean()).isTrue();
        assertThat(rpc(sock, "framework_set_scheduler", "--name", "static", "--period", "300000").asBoolean()).isTrue();

        KeelProcess.Result unknown = KeelProcess.run("rpc", "-s", sock.toString(), "no_such_method");
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.err()).contains("-32601");
        KeelProcess.Result badParam = KeelProcess.run("rpc", "-s", sock.toString(), "log_set_flag", "--flags", "rpc");
        assertThat(badParam.exitCode()).isNotZero();
        assertThat(badParam.err()).contains("-32602").contains("flags");

        JsonNode saved = rpc(sock, "save_config");
        assertThat(saved.toString()).contains("framework_set_scheduler").contains("300000");
        Path config = dir.resolve("config.json");
        Files.writeString(config, Json.pretty(saved));

        Process second = KeelProcess.start(dir.resolve("second.log"), "start", "--bare", "--interrupt-mode", "-r", sock.toString());
        started.add(second);
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as("a second Keel on a live socket is refused").isNotZero();
        assertThat(KeelProcess.log(dir.resolve("second.log"))).contains("another process is serving");

        keel.destroy(); // SIGTERM
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).as("graceful stop; log:\n%s", KeelProcess.log(log1)).isTrue();
        assertThat(keel.exitValue()).isZero();
        assertThat(Files.exists(sock)).isFalse();
        assertThat(KeelProcess.log(log1)).contains("shutting down");

        Process restarted = startKeel(sock, dir.resolve("restart.log"), "-c", config.toString());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> rpc(sock, "framework_wait_init").asBoolean());
        assertThat(rpc(sock, "framework_get_scheduler").get("scheduler_period").asLong()).isEqualTo(300000);
        assertThat(rpc(sock, "save_config")).as("the saved config round-trips").isEqualTo(saved);

        assertThat(rpc(sock, "spdk_kill_instance", "--sig-name", "SIGTERM").asBoolean()).isTrue();
        assertThat(restarted.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(restarted.exitValue()).isZero();
    }

    @Test
    void loadConfigReplaysIntoARunningTarget() throws Exception {
        Path sock = dir.resolve("k.sock");
        Process keel = startKeel(sock, dir.resolve("load.log"), "--wait-for-rpc");
        Path config = dir.resolve("c.json");
        Files.writeString(config, """
                {"subsystems": [{"subsystem": "scheduler", "config": [
                  {"method": "framework_set_scheduler", "params": {"name": "static", "period": 123456}}]}]}
                """);
        assertThat(rpc(sock, "load_config", config.toString())).isNull();
        assertThat(rpc(sock, "framework_wait_init").asBoolean()).isTrue();
        assertThat(rpc(sock, "framework_get_scheduler").get("scheduler_period").asLong()).isEqualTo(123456);
        keel.destroy();
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(keel.exitValue()).isZero();
    }

    @Test
    void aClientFramingRequestsAsRpcPyDoesIsServed() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new java.io.File("/usr/bin/python3").canExecute()
                || new ProcessBuilder("python3", "--version").start().waitFor() == 0, "python3 is needed for this check");
        Path sock = dir.resolve("py.sock");
        Process keel = startKeel(sock, dir.resolve("py.log"));
        Path script = dir.resolve("rpc_py_framing.py");
        try (var in = KeelEndToEndIT.class.getResourceAsStream("/rpc_py_framing.py")) {
            Files.copy(in, script);
        }
        Process py = new ProcessBuilder("python3", script.toString(), sock.toString()).redirectErrorStream(true).start();
        String out = new String(py.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(py.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(py.exitValue()).as(out).isZero();
        assertThat(out).contains("ok bdev_malloc_delete");
        keel.destroy();
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    private static List<String> threadNames(long pid) throws Exception {
        List<String> names = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                names.add(Files.readString(t.resolve("comm")).trim());
            }
        }
        return names;
    }
}
