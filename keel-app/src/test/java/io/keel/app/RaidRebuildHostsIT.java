package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Json;
import io.keel.core.testing.GuestHarness;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scenario S4 with real processes and real peers: a raid1 rebuilds onto a member slowed by the delay bdev while
 * hosts connect over NVMe/TCP and verify their I/O. One {@code keel start} on four reactors serves the raid (two
 * uring files, the second behind a delay bdev) as namespace 1 of a subsystem on 127.0.0.1; the second member is
 * removed and added back, which starts a rebuild held to {@value #REBUILD_MB_PER_S} MiB/s. While it runs, these
 * connect: the Linux kernel initiator in a QEMU guest (tests/e2e/raid-rebuild-guest.sh: fio verify=crc32c until
 * the rebuild is over), and Keel's own host in other processes ({@code keel bdevperf -w verify} over the nvme
 * bdev module on two reactor threads) right at the start (4 KiB I/O), at {@value #MID_PERCENT}% (128 KiB, across
 * rebuild windows), and in a loop of short runs (16 KiB) across the end of the rebuild. Each user verifies its
 * own quarter of the namespace. Then: no crash, no failed or wrong I/O, the
 * rebuild is done with both members configured, and the two member files, read by this test after Keel stopped,
 * are identical block by block. Without QEMU the guest part is skipped (said in the output) and the rest runs.
 * Logs stay in keel-app/target/raid-rebuild-hosts/.
 */
class RaidRebuildHostsIT {
    static final String NQN = "nqn.2024-11.io.keel:s4-raid1";
    static final String RAID = "Raid1";
    static final int BLOCK = 512;
    static final long MEMBER_BYTES = 48L << 20;
    /** Quarters of the namespace: the guest's, the first host's, the mid-way host's, the loop's. */
    static final long REGION_BYTES = MEMBER_BYTES / 4;
    /**
     * About 48 s of rebuild: room for every host to connect while it runs, even on a busy machine where starting a
     * bdevperf JVM and connecting has taken 25 s.
     */
    static final int REBUILD_MB_PER_S = 1;
    static final int WINDOW_KB = 256;
    /** When the mid-way host starts: early enough that it connects before the end on a busy machine. */
    static final int MID_PERCENT = 30;
    static final int DELAY_AVG_US = 1000;
    static final int DELAY_P99_US = 2000;
    static final Duration REBUILD_BOUND = Duration.ofMinutes(3);
    static final Duration GUEST_READY_BOUND = Duration.ofMinutes(3);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final List<Process> started = new ArrayList<>();
    private Path out;
    /** The RPC sockets: a short temporary path (a Unix socket's path is limited to 107 bytes). */
    private Path sockets;
    private Path sock;
    private int port;

    /** A {@code keel bdevperf} host: when its I/O began, relative to the rebuild. */
    private static final class Host {
        final String tag;
        final Process process;
        final Path log;
        /** The rebuild's state at the first look after the host's I/O began: "running at N%", "done"; null before. */
        String ioBeganWhile;

        Host(String tag, Process process, Path log) {
            this.tag = tag;
            this.process = process;
            this.log = log;
        }

        boolean ioBegan() {
            return KeelProcess.log(log).contains("Running I/O");
        }
    }

    @AfterEach
    void killLeftovers() throws IOException {
        started.forEach(GuestHarness::kill);
        if (sockets != null) {
            try (Stream<Path> files = Files.walk(sockets)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void hostsThatConnectDuringARaid1RebuildVerifyTheirIoAndTheMembersEndIdentical() throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        out = KeelProcess.ROOT.resolve("keel-app/target/raid-rebuild-hosts/" + stamp);
        Files.createDirectories(out);
        sockets = Files.createTempDirectory("keel-s4");
        sock = sockets.resolve("keel.sock");
        port = freePort();
        Path memberA = out.resolve("member-a.img");
        Path memberB = out.resolve("member-b.img");
        fill(memberA, 1);
        fill(memberB, 2); // different from A: only the rebuild can make them equal

        Path guestLog = out.resolve("guest.log");
        String noGuest = GuestHarness.prepare(guestLog);
        RaidRebuildGuest guest = null;
        if (noGuest != null) {
            step("S4: the Linux-initiator part is SKIPPED: %s", noGuest);
        } else {
            guest = RaidRebuildGuest.boot(guestLog, port, NQN, REGION_BYTES); // boots while Keel starts
        }
        try {
            run(memberA, memberB, guest);
        } finally {
            if (guest != null) {
                guest.close();
            }
        }
    }

    private void run(Path memberA, Path memberB, RaidRebuildGuest guest) throws Exception {
        Path keelLog = out.resolve("keel.log");
        Path config = out.resolve("target.json");
        Files.writeString(config, targetConfig(memberA, memberB));
        // four reactors, so four poll groups: hosts' queue pairs land on threads with and without a raid channel
        Process keel = KeelProcess.start(keelLog, "start", "-c", config.toString(), "-r", sock.toString(),
                "--interrupt-mode", "-m", "0xF");
        started.add(keel);
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions()
                .until(() -> !keel.isAlive() || call("framework_wait_init", null).asBoolean());
        assertThat(keel.isAlive()).as("keel start -c %s runs; log:\n%s", config, KeelProcess.log(keelLog)).isTrue();

        call("bdev_raid_remove_base_bdev", Json.object().put("name", "SlowB"));
        JsonNode degraded = raid();
        assertThat(degraded.get("state").asText()).isEqualTo("online");
        assertThat(degraded.get("num_base_bdevs_discovered").asInt()).as("degraded: %s", degraded).isEqualTo(1);

        if (guest != null) {
            long t0 = System.nanoTime();
            await().atMost(GUEST_READY_BOUND).until(() -> guest.ready() || !guest.running());
            assertThat(guest.ready()).as("the guest booted; log %s:\n%s", guest.log(), guest.logTail(60)).isTrue();
            step("guest ready after %.1f s more", (System.nanoTime() - t0) / 1e9);
        }

        call("bdev_raid_add_base_bdev", Json.object().put("raid_bdev", RAID).put("base_bdev", "SlowB"));
        assertThat(rebuildState(raid())).as("the rebuild started").startsWith("running");
        long rebuildStart = System.nanoTime();
        step("rebuild started");
        Host first = host("start", 1, 4096, 20);
        if (guest != null) {
            guest.connect();
        }
        String guestConnectedWhile = null;
        Host mid = null;
        List<Host> loop = new ArrayList<>();
        long rebuildEnd = 0;
        long deadline = System.nanoTime() + REBUILD_BOUND.toNanos();
        while (true) {
            assertThat(keel.isAlive()).as("Keel runs; log:\n%s", tail(KeelProcess.log(keelLog), 100)).isTrue();
            assertThat(System.nanoTime() - deadline).as("the run ends within %s", REBUILD_BOUND).isNegative();
            JsonNode raid = raid();
            String state = rebuildState(raid);
            if (rebuildEnd == 0 && state.equals("done")) {
                rebuildEnd = System.nanoTime();
                step("rebuild done after %.1f s", (rebuildEnd - rebuildStart) / 1e9);
                if (guest != null) {
                    guest.stop();
                }
            }
            if (guest != null && guestConnectedWhile == null && guest.connected()) {
                guestConnectedWhile = state;
                step("the guest connected, rebuild %s", state);
            }
            for (Host h : hosts(first, mid, loop)) {
                assertThat(h.process.isAlive() || h.process.exitValue() == 0)
                        .as("host %s failed; log %s:\n%s", h.tag, h.log, KeelProcess.log(h.log)).isTrue();
                if (h.ioBeganWhile == null && h.ioBegan()) {
                    h.ioBeganWhile = state;
                    step("host %s: I/O began, rebuild %s", h.tag, state);
                }
            }
            if (mid == null && percent(raid) >= MID_PERCENT) {
                mid = host("mid", 2, 128 << 10, 8);
            }
            Host last = loop.isEmpty() ? null : loop.getLast();
            boolean loopDone = last != null && !last.process.isAlive() && "done".equals(last.ioBeganWhile);
            if (first.ioBeganWhile != null && !loopDone && (last == null || !last.process.isAlive())) {
                loop.add(host("loop-" + (loop.size() + 1), 3, 16 << 10, 2));
            }
            boolean guestDone = guest == null || !guest.running();
            if (rebuildEnd != 0 && loopDone && !first.process.isAlive() && mid != null && !mid.process.isAlive()
                    && guestDone) {
                break;
            }
            Thread.sleep(300);
        }

        // every host: no failed I/O, no miscompare, and it connected when it was meant to
        for (Host h : hosts(first, mid, loop)) {
            String log = KeelProcess.log(h.log);
            assertThat(h.process.exitValue()).as("host %s exit status; log %s:\n%s", h.tag, h.log, log).isZero();
            assertThat(log).as("host %s", h.tag).contains("Verification LBA range").doesNotContain("FAILED");
        }
        assertThat(first.ioBeganWhile).as("the first host's I/O began during the rebuild").startsWith("running");
        assertThat(mid.ioBeganWhile).as("the mid-way host's I/O began during the rebuild").startsWith("running");
        assertThat(loop).as("loop runs (the first ones during the rebuild, the last one after it)")
                .anySatisfy(h -> assertThat(h.ioBeganWhile).startsWith("running"));
        step("hosts: start %s, mid %s, loop %s", first.ioBeganWhile, mid.ioBeganWhile,
                loop.stream().map(h -> h.ioBeganWhile).toList());
        if (guest != null) {
            String why = "guest log %s:\n%s".formatted(guest.log(), guest.logTail(80));
            assertThat(guest.passed()).as("the guest's fio verify passed (exit %d); %s", guest.exitValue(), why)
                    .isTrue();
            assertThat(guestConnectedWhile).as("the guest connected during the rebuild; " + why).startsWith("running");
        }

        // the rebuild is over: both members configured, nothing left connected
        JsonNode done = raid();
        assertThat(done.has("process")).as("no process: %s", done).isFalse();
        assertThat(done.get("state").asText()).isEqualTo("online");
        assertThat(done.get("num_base_bdevs_discovered").asInt()).isEqualTo(2);
        assertThat(done.get("num_base_bdevs_operational").asInt()).isEqualTo(2);
        assertThat(done.get("base_bdevs_list").findValuesAsText("name")).containsExactly("MemberA", "SlowB");
        assertThat(done.get("base_bdevs_list").findValues("is_configured")).allMatch(JsonNode::asBoolean);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
                .until(() -> call("nvmf_subsystem_get_controllers", Json.object().put("nqn", NQN)).isEmpty());

        keel.destroy();
        assertThat(keel.waitFor(30, TimeUnit.SECONDS)).as("graceful stop; log:\n%s", tail(KeelProcess.log(keelLog),
                100)).isTrue();
        assertThat(keel.exitValue()).as("Keel's exit status; log:\n%s", tail(KeelProcess.log(keelLog), 100)).isZero();
        assertThat(KeelProcess.log(keelLog).lines().filter(l -> l.contains(" ERROR ") && !l.contains("Watchdog")))
                .as("errors in Keel's log (a stalled reactor is reported, not failed: this machine is shared)")
                .isEmpty();
        compareMembers(memberA, memberB, guest != null);
        Files.delete(memberA);
        Files.delete(memberB);
    }

    /**
     * The members, read from their files now that Keel has stopped, are identical block by block; and every host's
     * quarter of A changed (the hosts' writes reached the members, so equal members are not just the old data).
     */
    private void compareMembers(Path memberA, Path memberB, boolean guestRan) throws IOException {
        byte[] a = Files.readAllBytes(memberA);
        byte[] b = Files.readAllBytes(memberB);
        assertThat(a.length).isEqualTo(b.length).isEqualTo((int) MEMBER_BYTES);
        List<Long> differing = new ArrayList<>();
        for (int off = 0; off < a.length; off += BLOCK) {
            if (Arrays.mismatch(a, off, off + BLOCK, b, off, off + BLOCK) >= 0) {
                differing.add((long) off / BLOCK);
            }
        }
        assertThat(differing).as("blocks that differ between the members (%d of them, the first ones)",
                differing.size()).isEmpty();
        byte[] before = pattern(1);
        for (int region = guestRan ? 0 : 1; region < 4; region++) {
            int from = (int) (region * REGION_BYTES);
            int to = (int) (from + REGION_BYTES);
            assertThat(Arrays.mismatch(a, from, to, before, from, to)).as("region %d was written by its host", region)
                    .isNotNegative();
        }
        step("members identical: %d blocks compared", a.length / BLOCK);
    }

    /** bdevperf verify on two threads over quarter {@code region} of the namespace, I/Os of {@code ioBytes}. */
    private Host host(String tag, int region, int ioBytes, int seconds) throws IOException {
        Path cfg = out.resolve("host.json");
        if (!Files.exists(cfg)) {
            Files.writeString(cfg, """
                    {"subsystems": [{"subsystem": "bdev", "config": [
                      {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", "trtype": "TCP",
                        "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%d", "subnqn": "%s"}}
                    ]}]}
                    """.formatted(port, NQN));
        }
        Path log = out.resolve("host-" + tag + ".log");
        long regionBlocks = REGION_BYTES / BLOCK;
        ProcessBuilder pb = KeelProcess.builder(List.of("bdevperf", "-c", cfg.toString(), "-T", "Nvme0n1", "-m", "0x3",
                "-q", "8", "-o", Integer.toString(ioBytes), "-w", "verify", "-t", Integer.toString(seconds),
                "--offset", Long.toString(region * regionBlocks), "--length", Long.toString(regionBlocks),
                "--interrupt-mode", "-r", sockets.resolve("host-" + tag + ".sock").toString()), log);
        // C1 only: a host JVM starts in a few seconds even with the guest's emulated CPUs taking most of the machine
        pb.environment().put("JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1");
        Process p = pb.start();
        started.add(p);
        step("host %s started: bdevperf verify on two threads over blocks %d..%d, %d B I/O, %d s", tag,
                region * regionBlocks, (region + 1) * regionBlocks - 1, ioBytes, seconds);
        return new Host(tag, p, log);
    }

    private static List<Host> hosts(Host first, Host mid, List<Host> loop) {
        List<Host> all = new ArrayList<>();
        all.add(first);
        if (mid != null) {
            all.add(mid);
        }
        all.addAll(loop);
        return all;
    }

    private JsonNode raid() throws Exception {
        for (JsonNode r : call("bdev_raid_get_bdevs", Json.object().put("category", "all"))) {
            if (r.get("name").asText().equals(RAID)) {
                return r;
            }
        }
        throw new AssertionError("bdev_raid_get_bdevs does not list " + RAID);
    }

    /** "running at N%" while the raid has a process, else "done". */
    private static String rebuildState(JsonNode raid) {
        return raid.has("process") ? "running at " + percent(raid) + "%" : "done";
    }

    private static int percent(JsonNode raid) {
        return raid.path("process").path("progress").path("percent").asInt(-1);
    }

    private JsonNode call(String method, JsonNode params) throws Exception {
        try (RpcClient rpc = new RpcClient(sock, 30_000)) {
            return rpc.call(method, params);
        }
    }

    private String targetConfig(Path memberA, Path memberB) {
        return """
                {"subsystems": [
                  {"subsystem": "bdev", "config": [
                    {"method": "bdev_raid_set_options", "params": {"process_window_size_kb": %d,
                      "process_max_bandwidth_mb_sec": %d}},
                    {"method": "bdev_uring_create", "params": {"name": "MemberA", "filename": "%s", "block_size": %d}},
                    {"method": "bdev_uring_create", "params": {"name": "MemberB", "filename": "%s", "block_size": %d}},
                    {"method": "bdev_delay_create", "params": {"name": "SlowB", "base_bdev_name": "MemberB",
                      "avg_read_latency": %d, "p99_read_latency": %d, "avg_write_latency": %d, "p99_write_latency": %d}},
                    {"method": "bdev_raid_create", "params": {"name": "%s", "raid_level": "raid1",
                      "base_bdevs": ["MemberA", "SlowB"]}}
                  ]},
                  {"subsystem": "nvmf", "config": [
                    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
                    {"method": "nvmf_create_subsystem", "params": {"nqn": "%s", "allow_any_host": true}},
                    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "%s", "namespace": {"bdev_name": "%s"}}},
                    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "%s", "listen_address":
                      {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%d"}}}
                  ]}
                ]}
                """.formatted(WINDOW_KB, REBUILD_MB_PER_S, memberA, BLOCK, memberB, BLOCK, DELAY_AVG_US,
                DELAY_P99_US, DELAY_AVG_US, DELAY_P99_US, RAID, NQN, NQN, RAID, NQN, port);
    }

    /** MEMBER_BYTES of a pseudo-random pattern from {@code seed}. */
    private static void fill(Path file, long seed) throws IOException {
        try (OutputStream o = Files.newOutputStream(file)) {
            o.write(pattern(seed));
        }
    }

    private static byte[] pattern(long seed) {
        byte[] bytes = new byte[(int) MEMBER_BYTES];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void step(String format, Object... args) {
        String line = "[S4 " + LocalTime.now().format(CLOCK) + "] " + format.formatted(args);
        System.out.println(line);
        try {
            Files.writeString(out.resolve("steps.log"), line + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("(cannot write steps.log: " + e + ")");
        }
    }

    private static String tail(String s, int lines) {
        String[] all = s.split("\n", -1);
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }
}
