package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import io.keel.core.testing.GuestHarness;
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
 * The real peer for vhost-user-blk: `keel start -S DIR` serves a malloc bdev as controller vhost.0 on DIR/vhost.0,
 * and a QEMU guest (../shared/guest) with vhost-user-blk-pci, num-queues=2, runs tests/e2e/vhost-blk-guest.sh on
 * /dev/vda: size, two queues, the serial (GET_ID), fio verify=crc32c, blkdiscard and blkdiscard -z, and a region
 * written for the next boot. The guest powers off; a second guest on the same controller verifies that region.
 * vhost_get_controllers shows the session while a guest runs and none after; the controller is then deleted.
 * Output and Keel's log stay in keel-app/target/vhost-blk-guest/.
 */
class VhostBlkGuestIT {
    static final String CTRLR = "vhost.0";
    static final String BDEV = "VhostMalloc0";
    static final long BYTES = 64L << 20;
    static final String MARKER = "VHOST-BLK-GUEST-OK";
    static final int GUEST_TIMEOUT_S = 240;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(GuestHarness::kill);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLinuxGuestUsesTheControllerAsItsDiskAndASecondBootFindsItsData() throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target/vhost-blk-guest");
        Files.createDirectories(out);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String cannot = GuestHarness.prepare(out.resolve("guest-setup-" + stamp + ".log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; the vhost-user-blk guest test cannot run here");
        Path keelLog = out.resolve("keel-" + stamp + ".log");
        // a short folder: a Unix socket path holds 107 bytes, and a CI checkout path may be long
        Path dir = Files.createTempDirectory("keel-vhost");
        Path rpc = dir.resolve("keel.sock");
        Path socket = dir.resolve(CTRLR);
        Path config = out.resolve("config-" + stamp + ".json");
        Files.writeString(config, """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_malloc_create", "params": {"name": "%s", "num_blocks": %d, "block_size": 512}}]},
                  {"subsystem": "vhost_blk", "config": [
                    {"method": "vhost_create_blk_controller", "params": {"ctrlr": "%s", "dev_name": "%s"}}]}
                ]}
                """.formatted(BDEV, BYTES / 512, CTRLR, BDEV));
        try {
            List<String> args = new ArrayList<>(List.of("start", "-c", config.toString(), "-r", rpc.toString(),
                    "-S", dir.toString()));
            args.addAll(List.of(System.getProperty("keel.e2e.startArgs", "--interrupt-mode").split("\\s+")));
            Process keel = KeelProcess.start(keelLog, args.stream().filter(a -> !a.isEmpty()).toArray(String[]::new));
            started.add(keel);
            await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(socket) || !keel.isAlive());
            assertThat(keel.isAlive()).as("keel start is running; log:\n%s", KeelProcess.log(keelLog)).isTrue();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> ok(rpc, "framework_wait_init").asBoolean());
            JsonNode ctrlrs = ok(rpc, "vhost_get_controllers");
            assertThat(ctrlrs.get(0).get("socket").asText()).isEqualTo(socket.toString());

            int sawSession = runGuest("first", socket, out.resolve("guest1-" + stamp + ".log"), keel, keelLog, rpc);
            assertThat(sawSession).as("vhost_get_controllers showed the first guest's started session").isPositive();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    ok(rpc, "vhost_get_controllers").get(0).get("sessions").isEmpty());
            runGuest("second", socket, out.resolve("guest2-" + stamp + ".log"), keel, keelLog, rpc);

            assertThat(ok(rpc, "vhost_delete_controller", "--ctrlr", CTRLR).asBoolean()).isTrue();
            assertThat(ok(rpc, "vhost_get_controllers")).isEmpty();
            assertThat(Files.exists(socket)).as("the controller's socket is gone").isFalse();
            keel.destroy();
            assertThat(keel.waitFor(30, TimeUnit.SECONDS)).as("graceful stop; log:\n%s", KeelProcess.log(keelLog))
                    .isTrue();
            assertThat(keel.exitValue()).isZero();
        } finally {
            Files.deleteIfExists(rpc);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** Boots a guest on the controller's socket running the script's {@code phase}; polls for its session. */
    private int runGuest(String phase, Path socket, Path guestLog, Process keel, Path keelLog, Path rpc)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2", "-t",
                Integer.toString(GUEST_TIMEOUT_S), "--no-net", "-q",
                "-chardev socket,id=vu,path=" + socket + " -device vhost-user-blk-pci,chardev=vu,num-queues=2",
                KeelProcess.ROOT.resolve("tests/e2e/vhost-blk-guest.sh").toString(), phase, BDEV,
                Long.toString(BYTES))
                .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true).redirectOutput(guestLog.toFile());
        long t0 = System.nanoTime();
        Process guest = pb.start();
        started.add(guest);
        int sawSession = 0;
        while (!guest.waitFor(2, TimeUnit.SECONDS) && keel.isAlive()) {
            JsonNode sessions = ok(rpc, "vhost_get_controllers").get(0).get("sessions");
            // QEMU starts the queues one after the other: count the session once both run
            if (!sessions.isEmpty() && sessions.get(0).get("started").asBoolean()
                    && sessions.get(0).get("max_queues").asInt() == 2) {
                sawSession++;
            }
        }
        boolean done = guest.waitFor(GUEST_TIMEOUT_S + 60, TimeUnit.SECONDS);
        String guestOut = KeelProcess.log(guestLog);
        System.out.printf("guest %s: %.1f s, exit %s%n", phase, (System.nanoTime() - t0) / 1e9,
                done ? guest.exitValue() : "(still running)");
        String why = "guest output (%s):\n%s\n---- keel log (%s):\n%s".formatted(guestLog, guestOut, keelLog,
                KeelProcess.log(keelLog));
        assertThat(done).as("the guest finished; " + why).isTrue();
        assertThat(keel.isAlive()).as("Keel is still running after the guest; " + why).isTrue();
        assertThat(guest.exitValue()).as("guest exit status; " + why).isZero();
        assertThat(guestOut).as(why).contains(MARKER);
        return sawSession;
    }

    private static JsonNode ok(Path sock, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("rpc", "-s", sock.toString()));
        all.addAll(List.of(args));
        KeelProcess.Result r = KeelProcess.run(all.toArray(String[]::new));
        assertThat(r.exitCode()).as("keel rpc %s: %s", String.join(" ", args), r.err()).isZero();
        return r.out().isBlank() ? null : Json.MAPPER.readTree(r.out());
    }
}
