package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import io.keel.core.testing.GuestHarness;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real peer: `keel start` serves NVMe/TCP on 127.0.0.1:PORT, and the Linux kernel initiator in a QEMU
 * guest (../shared/guest) runs tests/e2e/nvme-tcp-guest.sh against it: discover, connect (plain and with
 * header and data digests), nvme-cli identify and log pages, fio verify=crc32c over two I/O queues, and a
 * subsystem that refuses every host but one. Meanwhile `keel rpc` asks the target about its controllers.
 * The guest's output and Keel's log stay in keel-app/target/nvme-tcp-guest/.
 */
class NvmeTcpGuestIT {
    static final String NQN = "nqn.2024-11.io.keel:e2e-open";
    static final String RNQN = "nqn.2024-11.io.keel:e2e-restricted";
    static final String RHOST = "nqn.2024-11.io.keel:e2e-allowed-host";
    static final long NS_BYTES = 64L << 20; // 131072 x 512 B
    static final long RNS_BYTES = 16L << 20; // 4096 x 4 KiB
    static final String SN = "KEEL0E2E0001";
    static final String MN = "Keel e2e open";
    static final String MARKER = "NVME-TCP-GUEST-OK";
    static final int GUEST_TIMEOUT_S = 360;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
    }

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theLinuxKernelInitiatorDiscoversConnectsAndVerifiesData() throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target/nvme-tcp-guest");
        Files.createDirectories(out);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String cannot = GuestHarness.prepare(out.resolve("guest-setup-" + stamp + ".log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; the kernel-initiator test cannot run here");
        Path keelLog = out.resolve("keel-" + stamp + ".log");
        Path guestLog = out.resolve("guest-" + stamp + ".log");
        Path sock = Files.createTempDirectory("keel-e2e").resolve("keel.sock");
        int port = freePort();
        Path config = out.resolve("config-" + stamp + ".json");
        Files.writeString(config, config(port));

        List<String> args = new ArrayList<>(List.of("start", "-c", config.toString(), "-r", sock.toString()));
        args.addAll(List.of(System.getProperty("keel.e2e.startArgs", "--interrupt-mode").split("\\s+")));
        Process keel = KeelProcess.start(keelLog, args.stream().filter(a -> !a.isEmpty()).toArray(String[]::new));
        started.add(keel);
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(sock) || !keel.isAlive());
        assertThat(keel.isAlive()).as("keel start -c is running; log:\n%s", KeelProcess.log(keelLog)).isTrue();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> !keel.isAlive() || ok(sock, "framework_wait_init").asBoolean());
        assertThat(keel.isAlive()).as("keel start -c %s loaded its config; log:\n%s", config,
                tail(KeelProcess.log(keelLog), 60)).isTrue();
        JsonNode subsystems = ok(sock, "nvmf_get_subsystems");
        assertThat(subsystems.findValuesAsText("nqn")).as("subsystems from the config").contains(NQN, RNQN);
        await().atMost(Duration.ofSeconds(30)).until(() -> listening(port) || !keel.isAlive());
        assertThat(listening(port)).as("Keel listens on 127.0.0.1:%d; log:\n%s", port, KeelProcess.log(keelLog))
                .isTrue();

        ProcessBuilder pb = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2",
                "-t", Integer.toString(GUEST_TIMEOUT_S), "-e", "EXPECT_SN=" + SN, "-e", "EXPECT_MN=" + MN,
                KeelProcess.ROOT.resolve("tests/e2e/nvme-tcp-guest.sh").toString(),
                "10.0.2.2", Integer.toString(port), NQN, Long.toString(NS_BYTES), RNQN, RHOST,
                Long.toString(RNS_BYTES))
                .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true).redirectOutput(guestLog.toFile());
        long t0 = System.nanoTime();
        Process guest = pb.start();
        started.add(guest);

        // while the guest works, the target answers about its controllers and queue pairs
        int polls = 0;
        int sawController = 0;
        while (!guest.waitFor(3, TimeUnit.SECONDS)) {
            if (!keel.isAlive() || stopping(keelLog)) {
                break; // the assertions below tell, with the logs
            }
            JsonNode ctrls = ok(sock, "nvmf_subsystem_get_controllers", "--nqn", NQN);
            ok(sock, "nvmf_subsystem_get_qpairs", "--nqn", NQN);
            polls++;
            if (ctrls != null && ctrls.isArray() && !ctrls.isEmpty()) {
                sawController++;
                assertThat(ctrls.get(0).get("cntlid").asInt()).isPositive();
            }
        }
        boolean done = guest.waitFor(GUEST_TIMEOUT_S + 60, TimeUnit.SECONDS);
        double secs = (System.nanoTime() - t0) / 1e9;
        String guestOut = KeelProcess.log(guestLog);
        System.out.printf("guest run: %.1f s, exit %s, %d rpc polls, %d saw a controller%n", secs,
                done ? guest.exitValue() : "(still running)", polls, sawController);
        String why = "guest output (%s):\n%s\n---- keel log (%s):\n%s".formatted(guestLog, tail(guestOut, 200),
                keelLog, tail(KeelProcess.log(keelLog), 200));
        assertThat(done).as("the guest finished; " + why).isTrue();
        assertThat(stopping(keelLog)).as("Keel began shutting down while the guest ran, though this test did not stop "
                + "it: a SIGTERM/SIGINT from outside (another process killing Keel by name?) or it stopped itself; "
                + why).isFalse();
        assertThat(keel.isAlive()).as("Keel is still running after the guest; " + why).isTrue();
        assertThat(guest.exitValue()).as("guest exit status; " + why).isZero();
        assertThat(guestOut).as(why).contains(MARKER);
        assertThat(sawController).as("nvmf_subsystem_get_controllers showed the guest's controller (%d polls)", polls)
                .isPositive();

        // after the guest disconnected: no controllers left, subsystems intact, a graceful stop
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            assertThat(ok(sock, "nvmf_subsystem_get_controllers", "--nqn", NQN)).as("controllers of " + NQN).isEmpty();
            assertThat(ok(sock, "nvmf_subsystem_get_controllers", "--nqn", RNQN)).as("controllers of " + RNQN).isEmpty();
        });
        JsonNode after = ok(sock, "nvmf_get_subsystems");
        assertThat(after.findValuesAsText("nqn")).contains(NQN, RNQN);
        assertThat(after.toString()).contains(RHOST);
        ok(sock, "nvmf_subsystem_get_listeners", "--nqn", NQN);
        keel.destroy();
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).as("graceful stop; log:\n%s", tail(KeelProcess.log(keelLog), 100))
                .isTrue();
        assertThat(keel.exitValue()).isZero();
    }

    private static JsonNode ok(Path sock, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("rpc", "-s", sock.toString()));
        all.addAll(List.of(args));
        KeelProcess.Result r = KeelProcess.run(all.toArray(String[]::new));
        assertThat(r.exitCode()).as("keel rpc %s: %s", String.join(" ", args), r.err()).isZero();
        return r.out().isBlank() ? null : Json.MAPPER.readTree(r.out());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** From /proc/net/tcp and tcp6 (a Java socket may be dual-stack), so that the check does not connect. */
    private static boolean listening(int port) throws IOException {
        String suffix = ":%04X".formatted(port);
        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/net/tcp")));
        if (Files.exists(Path.of("/proc/net/tcp6"))) {
            lines.addAll(Files.readAllLines(Path.of("/proc/net/tcp6")));
        }
        return lines.stream().map(String::trim).map(l -> l.split("\\s+"))
                .anyMatch(f -> f.length > 3 && f[1].endsWith(suffix) && f[3].equals("0A"));
    }

    private static boolean stopping(Path keelLog) {
        return KeelProcess.log(keelLog).contains("KeelApp: shutting down");
    }

    private static String tail(String s, int lines) {
        String[] all = s.split("\n", -1);
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }

    static String config(int port) {
        String listener = """
                {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%d"}""".formatted(port);
        return """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_malloc_create", "params": {"name": "E2eOpen", "num_blocks": %d, "block_size": 512}},
                    {"method": "bdev_malloc_create", "params": {"name": "E2eRestricted", "num_blocks": %d, "block_size": 4096}}
                  ]},
                  {"subsystem": "nvmf", "config": [
                    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
                    {"method": "nvmf_create_subsystem", "params": {"nqn": "%s", "serial_number": "%s",
                      "model_number": "%s", "allow_any_host": true}},
                    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "%s", "namespace": {"bdev_name": "E2eOpen"}}},
                    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "%s", "listen_address": %s}},
                    {"method": "nvmf_create_subsystem", "params": {"nqn": "%s", "serial_number": "KEEL0E2E0002",
                      "allow_any_host": false}},
                    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "%s", "namespace": {"bdev_name": "E2eRestricted"}}},
                    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "%s", "host": "%s"}},
                    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "%s", "listen_address": %s}}
                  ]}
                ]}
                """.formatted(NS_BYTES / 512, RNS_BYTES / 4096, NQN, SN, MN, NQN, NQN, listener, RNQN, RNQN, RNQN,
                RHOST, RNQN, listener);
    }
}
