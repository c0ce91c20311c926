package io.keel.app;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevTestApp;
import io.keel.core.testing.GuestHarness;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.testing.BlkLoad;
import io.keel.vhost.testing.FakeFrontEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scenario S2 with a real VM: controllers vhost.A and vhost.B on one reactor of an in-process Keel; A's front end is
 * the test's virtio-blk driver (its completions timed here), B's is a QEMU guest running fio
 * (tests/e2e/vhost-blk-busy-guest.sh). vhost_delete_controller for B is called while B's guest is mid-I/O: refused
 * at once (-EBUSY, as SPDK's "has still valid connection"), B's session stays. Then as B's guest shuts down, the way an
 * orchestrator does it: called again every 100 ms while refused, until QEMU stops the device; that delete completes
 * once B's session is torn down. A's I/O never fails and its longest completion gap over the whole window stays
 * under 1 s. Guest output in keel-app/target/vhost-s2/.
 */
class VhostDeleteNeighbourGuestIT {
    static final long GAP_BOUND_NANOS = 1_000_000_000L;
    static final int GUEST_TIMEOUT_S = 180;

    Path dir;
    Path out;
    BdevTestApp t;
    BlkGuest a;
    final List<Process> started = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        out = KeelProcess.ROOT.resolve("keel-app/target/vhost-s2");
        Files.createDirectories(out);
        String cannot = GuestHarness.prepare(out.resolve("guest-setup.log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; S2 with a QEMU guest cannot run here");
        dir = Files.createTempDirectory("keel-s2"); // a Unix socket path holds 107 bytes
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "MallocA", "block_size", 512, "num_blocks", 2048));
        t.rpc("bdev_malloc_create", params("name", "MallocB", "block_size", 512, "num_blocks", 65536));
        for (String[] c : new String[][] {{"vhost.A", "MallocA"}, {"vhost.B", "MallocB"}}) {
            assertThat(t.rpc("vhost_create_blk_controller", params("ctrlr", c[0], "dev_name", c[1], "cpumask", "1"))
                    .asBoolean()).isTrue();
        }
        a = new BlkGuest(new FakeFrontEnd(dir.resolve("vhost.A").toString()));
        a.bringUp();
    }

    @AfterEach
    void stop() throws Exception {
        started.forEach(GuestHarness::kill);
        if (a != null) {
            a.close();
        }
        if (t != null) {
            t.close();
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** Boots B's guest running fio for {@code seconds}; its output goes to {@code log}. */
    private Process bootB(int seconds, Path log) throws Exception {
        Process p = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2", "-t", Integer.toString(GUEST_TIMEOUT_S),
                "--no-net", "-q", "-chardev socket,id=vu,path=" + dir.resolve("vhost.B")
                        + " -device vhost-user-blk-pci,chardev=vu,num-queues=2",
                KeelProcess.ROOT.resolve("tests/e2e/vhost-blk-busy-guest.sh").toString(), Integer.toString(seconds))
                .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return p;
    }

    private void deleteBWhenGuestSays(String marker, int fioSeconds, String name, boolean retry) throws Exception {
        Path log = out.resolve(name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss")) + ".log");
        Process b = bootB(fioSeconds, log);
        await().atMost(Duration.ofSeconds(GUEST_TIMEOUT_S)).pollInterval(Duration.ofMillis(20))
                .until(() -> KeelProcess.log(log).contains(marker) || !b.isAlive());
        assertThat(KeelProcess.log(log)).as("B's guest output").contains(marker);
        assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.B")).get(0).get("sessions")).hasSize(1);

        long from;
        long to;
        int refused = 0;
        boolean deleted = false;
        BlkLoad load = BlkLoad.start(a, "guest-A-io");
        try (load) {
            Thread.sleep(200);
            from = System.nanoTime();
            while (!deleted && System.nanoTime() - from < TimeUnit.SECONDS.toNanos(60)) {
                try {
                    deleted = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"))
                            .get(30, TimeUnit.SECONDS).asBoolean();
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(BdevTestApp.RpcError.class)
                            .hasMessageEndingWith("Device or resource busy");
                    refused++;
                    if (!retry) {
                        break;
                    }
                    Thread.sleep(100);
                }
            }
            to = System.nanoTime();
            Thread.sleep(200);
        }
        long gap = load.maxGap(from, to);
        System.out.printf("%s: delete refused %d times, then %s after %.1f ms; A completed %d I/Os, longest gap %.2f ms%n",
                name, refused, deleted ? "done" : "not done", (to - from) / 1e6, load.completed(), gap / 1e6);
        assertThat(load.failed()).as("A's failed I/Os").isZero();
        assertThat(gap).as("A's longest completion gap over the deletes").isLessThan(GAP_BOUND_NANOS);
        assertThat(a.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_OK);
        if (!retry) {
            assertThat(deleted).as("a delete while B's VM runs").isFalse();
            assertThat(refused).isEqualTo(1);
            assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.B")).get(0).get("sessions")).hasSize(1);
            return;
        }
        assertThat(deleted).isTrue();
        assertThat(t.rpc("vhost_get_controllers", null).findValuesAsText("ctrlr")).containsExactly("vhost.A");
        assertThat(t.rpc("bdev_malloc_delete", Map.of("name", "MallocB")).asBoolean()).as("B's bdev is free")
                .isTrue();
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void deletingTheControllerOfAVmMidIoIsRefusedAndNeverStallsItsNeighbour() throws Exception {
        deleteBWhenGuestSays("VHOST-BUSY-RUNNING", 120, "mid-io", false);
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void deletingTheControllerOfAVmShuttingDownNeverStallsItsNeighbour() throws Exception {
        deleteBWhenGuestSays("VHOST-BUSY-SHUTTING-DOWN", 3, "shutting-down", true);
    }
}
