package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import io.keel.core.testing.GuestHarness;
import java.io.RandomAccessFile;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The back end restarting under a running VM, with inflight tracking: `keel start -S DIR` serves a file (uring bdev,
 * under a 20 ms delay bdev so that the guest's requests are in flight) as controller vhost.0 to a QEMU guest whose chardev
 * reconnects. While the guest writes with fio (tests/e2e/vhost-blk-reconnect-guest.sh) Keel is killed (SIGKILL) and
 * started again on the same file and socket; QEMU reconnects and passes the inflight region it kept
 * (SET_INFLIGHT_FD), the new Keel submits again exactly the requests the old one had taken and not completed (the
 * write latency is raised to 3 s just before the kill, so that some surely are), and the guest's writes end and
 * verify with no error. Output and both Keel logs stay in keel-app/target/vhost-reconnect/.
 */
class VhostReconnectGuestIT {
    static final String CTRLR = "vhost.0";
    static final long BYTES = 16L << 20;
    static final int GUEST_TIMEOUT_S = 300;
    static final Pattern RESUBMITTED = Pattern.compile("submitting (\\d+) requests again");

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(GuestHarness::kill);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGuestWritingThroughABackEndRestartLosesNoWrite() throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target/vhost-reconnect");
        Files.createDirectories(out);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String cannot = GuestHarness.prepare(out.resolve("guest-setup-" + stamp + ".log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; the vhost-user reconnect guest test cannot run here");
        Path dir = Files.createTempDirectory("keel-vhost-rc"); // a Unix socket path holds 107 bytes
        Path rpc = dir.resolve("keel.sock");
        Path socket = dir.resolve(CTRLR);
        Path disk = out.resolve("disk-" + stamp + ".img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(BYTES);
        }
        Path config = out.resolve("config-" + stamp + ".json");
        Files.writeString(config, """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_uring_create", "params": {"name": "Uring0", "filename": "%s", "block_size": 512}},
                    {"method": "bdev_delay_create", "params": {"name": "Delay0", "base_bdev_name": "Uring0",
                      "avg_read_latency": 20000, "p99_read_latency": 20000,
                      "avg_write_latency": 20000, "p99_write_latency": 20000}}]},
                  {"subsystem": "vhost_blk", "config": [
                    {"method": "vhost_create_blk_controller", "params": {"ctrlr": "%s", "dev_name": "Delay0"}}]}
                ]}
                """.formatted(disk, CTRLR));
        try {
            Path firstLog = out.resolve("keel1-" + stamp + ".log");
            Process first = startKeel(config, rpc, dir, socket, firstLog);
            Path guestLog = out.resolve("guest-" + stamp + ".log");
            Process guest = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2", "-t",
                    Integer.toString(GUEST_TIMEOUT_S), "--no-net", "-q",
                    "-chardev socket,id=vu,path=" + socket + ",reconnect=1"
                            + " -device vhost-user-blk-pci,chardev=vu,num-queues=2",
                    KeelProcess.ROOT.resolve("tests/e2e/vhost-blk-reconnect-guest.sh").toString(),
                    Long.toString(BYTES))
                    .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true).redirectOutput(guestLog.toFile())
                    .start();
            started.add(guest);
            await().atMost(Duration.ofSeconds(GUEST_TIMEOUT_S)).pollInterval(Duration.ofMillis(100))
                    .until(() -> KeelProcess.log(guestLog).contains("VHOST-RECONNECT-WRITING") || !guest.isAlive());
            assertThat(KeelProcess.log(guestLog)).as("the guest writes").contains("VHOST-RECONNECT-WRITING");
            // Writes from now on stay 3 s at the delay bdev, so that requests are surely in flight at the kill: once
            // some are, and the 20 ms ones taken before the change have completed, the first Keel is killed.
            for (String type : List.of("p99_write", "avg_write")) {
                call(rpc, "bdev_delay_update_latency", """
                        {"delay_bdev_name": "Delay0", "latency_type": "%s", "latency_us": 3000000}""".formatted(type));
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                    .until(() -> inFlight(rpc) > 0 || KeelProcess.log(guestLog).contains("VHOST-RECONNECT-WRITTEN"));
            Thread.sleep(200);
            int inFlightAtKill = inFlight(rpc);
            assertThat(inFlightAtKill).as("requests in flight at the kill").isPositive();

            first.destroyForcibly();
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(KeelProcess.log(guestLog)).as("Keel was killed while the guest was still writing")
                    .doesNotContain("VHOST-RECONNECT-WRITTEN");
            Files.deleteIfExists(rpc);
            Path secondLog = out.resolve("keel2-" + stamp + ".log");
            Process second = startKeel(config, rpc, dir, socket, secondLog);

            boolean done = guest.waitFor(GUEST_TIMEOUT_S + 60, TimeUnit.SECONDS);
            String why = "guest output (%s):\n%s\n---- keel log after the restart (%s):\n%s".formatted(guestLog,
                    KeelProcess.log(guestLog), secondLog, KeelProcess.log(secondLog));
            assertThat(done).as("the guest finished; " + why).isTrue();
            assertThat(second.isAlive()).as("the second Keel still runs; " + why).isTrue();
            assertThat(guest.exitValue()).as("guest exit status; " + why).isZero();
            assertThat(KeelProcess.log(guestLog)).as(why).contains("VHOST-RECONNECT-OK");
            Matcher m = RESUBMITTED.matcher(KeelProcess.log(secondLog));
            int resubmitted = 0;
            while (m.find()) {
                resubmitted += Integer.parseInt(m.group(1));
            }
            System.out.printf("%d requests in flight at the kill; the restarted Keel submitted %d again from the"
                    + " inflight region%n", inFlightAtKill, resubmitted);
            assertThat(resubmitted).as("requests submitted again from the inflight region; " + why)
                    .isEqualTo(inFlightAtKill);
            second.destroy();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            Files.deleteIfExists(rpc);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
            Files.deleteIfExists(disk);
        }
    }

    /** The controller's session's requests in flight. */
    private static int inFlight(Path rpc) throws Exception {
        return call(rpc, "vhost_get_controllers", null).at("/result/0/sessions/0/inflight_task_cnt").asInt();
    }

    /** One JSON-RPC call over the RPC socket directly (no JVM to start): the whole answer. */
    private static JsonNode call(Path rpc, String method, String params) throws Exception {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(rpc))) {
            c.write(ByteBuffer.wrap(("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\""
                    + (params == null ? "" : ",\"params\":" + params) + "}").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            while (c.read(in) >= 0) {
                try {
                    JsonNode answer = Json.MAPPER.readTree(new String(in.array(), 0, in.position(),
                            StandardCharsets.UTF_8));
                    if (answer.has("error")) {
                        throw new IllegalStateException(method + ": " + answer.get("error"));
                    }
                    return answer;
                } catch (JsonProcessingException partial) {
                    // not all of it yet
                }
            }
            throw new IllegalStateException(method + ": the connection closed before a whole answer");
        }
    }

    private Process startKeel(Path config, Path rpc, Path dir, Path socket, Path log) throws Exception {
        Files.deleteIfExists(log);
        List<String> args = new ArrayList<>(List.of("start", "-c", config.toString(), "-r", rpc.toString(), "-S",
                dir.toString()));
        args.addAll(List.of(System.getProperty("keel.e2e.startArgs", "--interrupt-mode").split("\\s+")));
        Process keel = KeelProcess.start(log, args.stream().filter(a -> !a.isEmpty()).toArray(String[]::new));
        started.add(keel);
        await().atMost(Duration.ofSeconds(90)).until(() -> KeelProcess.log(log).contains("serves bdev")
                || !keel.isAlive());
        assertThat(keel.isAlive()).as("keel start is running; log:\n%s", KeelProcess.log(log)).isTrue();
        return keel;
    }
}
