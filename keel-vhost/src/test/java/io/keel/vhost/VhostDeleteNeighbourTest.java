package io.keel.vhost;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.vhost.blk.BlkController;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.testing.BlkLoad;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S2 without QEMU: controllers vhost.A and vhost.B on one reactor (cpumask 1), a front end each. B's bdev delays
 * every I/O by 2 s (far longer than a loaded test machine's hiccups), so B's session has requests at the bdev when
 * vhost_delete_controller is called for it. A runs I/O throughout: none of it fails and no completion waits for the
 * delete. A delete while B's VM runs is refused at once (-EBUSY, as SPDK's) and B loses nothing; a delete while B's VM
 * shuts down (stopping its queues, then hanging up), after it hung up, or while it stopped its queues and never hangs
 * up completes once B's session is torn down.
 */
class VhostDeleteNeighbourTest {
    static final long DELAY_US = 2_000_000;
    static final long GAP_BOUND_NANOS = 1_000_000_000L;

    @TempDir
    Path dir;
    BdevTestApp t;
    BlkGuest a;
    BlkGuest b;

    @BeforeEach
    void start() {
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "MallocA", "block_size", 512, "num_blocks", 2048));
        t.rpc("bdev_malloc_create", params("name", "MallocB", "block_size", 512, "num_blocks", 2048));
        t.rpc("bdev_delay_create", params("name", "DelayB", "base_bdev_name", "MallocB", "avg_read_latency",
                DELAY_US, "p99_read_latency", DELAY_US, "avg_write_latency", DELAY_US, "p99_write_latency",
                DELAY_US));
        for (String[] c : new String[][] {{"vhost.A", "MallocA"}, {"vhost.B", "DelayB"}}) {
            assertThat(t.rpc("vhost_create_blk_controller", params("ctrlr", c[0], "dev_name", c[1], "cpumask", "1"))
                    .asBoolean()).isTrue();
        }
        a = new BlkGuest(new FakeFrontEnd(dir.resolve("vhost.A").toString()));
        b = new BlkGuest(new FakeFrontEnd(dir.resolve("vhost.B").toString()));
        a.bringUp();
        b.bringUp();
    }

    @AfterEach
    void stop() throws Exception {
        a.close();
        b.close();
        t.close();
    }

    /** B's driver makes four reads available on each queue and kicks: they wait at B's delay bdev. */
    private void bMidIo() {
        for (int q = 0; q < 2; q++) {
            for (int i = 0; i < 4; i++) {
                b.request(q, VirtioBlk.T_IN, 8L * i, 16, 4096, 1, true);
            }
            b.kick(q);
        }
    }

    /** How B's front end goes away around the delete. */
    enum BGoes {
        /** As QEMU when its VM powers off: GET_VRING_BASE for each queue (each answered once drained), hang-up. */
        SHUTS_DOWN,
        /** QEMU exits (or is killed) just before the delete. */
        HUNG_UP,
        /** Its queues stopped, but the front end stays connected: the delete ends the session at its bound. */
        STOPS_AND_STAYS
    }

    private void stopQueue(int q) {
        b.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, q, 0);
    }

    private void deleteBWhile(BGoes how) throws Exception {
        try (BlkLoad load = BlkLoad.start(a, "guest-A-io")) {
            deleteBWhileARuns(how, load);
        }
    }

    private void deleteBWhileARuns(BGoes how, BlkLoad load) throws Exception {
        Thread.sleep(300); // A is warm and running
        bMidIo();
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).untilAsserted(() ->
                assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.B")).get(0)
                        .at("/sessions/0/inflight_task_cnt").asInt()).as("B's requests wait at its bdev").isEqualTo(8));
        long from = System.nanoTime();
        CompletableFuture<JsonNode> delete;
        CompletableFuture<JsonNode> again;
        if (how == BGoes.HUNG_UP) {
            b.hangUp();
            delete = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"));
            again = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"));
        } else {
            stopQueue(0);
            delete = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"));
            again = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"));
            assertThat(b.qemu.awaitReply().request()).isEqualTo(VhostUserRequest.GET_VRING_BASE);
            stopQueue(1);
            assertThat(b.qemu.awaitReply().request()).isEqualTo(VhostUserRequest.GET_VRING_BASE);
            if (how == BGoes.SHUTS_DOWN) {
                b.hangUp();
            }
        }
        assertThat(delete.get(15, TimeUnit.SECONDS).asBoolean()).isTrue();
        long to = System.nanoTime();
        assertThat(again.get(1, TimeUnit.SECONDS).asBoolean()).as("a second delete hears with the first").isTrue();
        Thread.sleep(100);
        load.stop();

        long gap = load.maxGap(from, to);
        System.out.printf("%s: delete took %.1f ms; A completed %d I/Os, longest gap during the delete %.2f ms%n", how,
                (to - from) / 1e6, load.completed(), gap / 1e6);
        assertThat(load.failed()).as("A's failed I/Os").isZero();
        assertThat(to - from).as("the delete waited for B's requests at the bdev")
                .isGreaterThan(DELAY_US * 1000 / 4);
        if (how == BGoes.STOPS_AND_STAYS) {
            assertThat(to - from).as("the delete waited for B to hang up, up to its bound")
                    .isGreaterThanOrEqualTo(BlkController.HANG_UP_BOUND_NANOS);
            assertThat(b.qemu.closedByBackEnd()).as("the delete ended B's session").isTrue();
        }
        assertThat(gap).as("A's longest completion gap during the delete").isLessThan(GAP_BOUND_NANOS);
        assertThat(gap).as("A never waited for B's drain").isLessThan(to - from);
        List<String> left = new ArrayList<>();
        t.rpc("vhost_get_controllers", null).forEach(c -> left.add(c.get("ctrlr").asText()));
        assertThat(left).containsExactly("vhost.A");
        assertThat(Files.exists(dir.resolve("vhost.B"))).isFalse();
        assertThatThrownBy(() -> t.rpc("vhost_delete_controller", Map.of("ctrlr", "vhost.B")))
                .as("a delete after it is gone").hasMessageContaining("No such device");
        // A goes on, and B's bdev is free
        assertThat(a.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(t.rpc("bdev_delay_delete", Map.of("name", "DelayB")).asBoolean()).isTrue();
    }

    @Test
    void deletingAControllerARunningVmUsesIsRefusedAndLosesNothing() throws Exception {
        bMidIo();
        Thread.sleep(50);
        long from = System.nanoTime();
        assertThatThrownBy(() -> t.rpc("vhost_delete_controller", Map.of("ctrlr", "vhost.B")))
                .isInstanceOfSatisfying(BdevTestApp.RpcError.class, e -> {
                    assertThat(e.code).isEqualTo(-32602);
                    assertThat(e.getMessage()).endsWith("Device or resource busy");
                });
        assertThat(System.nanoTime() - from).as("refused at once, not after B's drain")
                .isLessThan(DELAY_US * 1000 / 2);
        for (int q = 0; q < 2; q++) {
            BlkGuest.Done d = b.kickAndWait(q);
            assertThat(d.status()).as("B's requests went on").isEqualTo(VirtioBlk.S_OK);
        }
        assertThat(b.run(VirtioBlk.T_OUT, 0, 4096, false).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.B")).get(0).get("sessions")).hasSize(1);
        assertThat(Files.exists(dir.resolve("vhost.B"))).isTrue();
    }

    @Test
    void deletingAControllerWhoseVmShutsDownNeverStallsItsNeighbour() throws Exception {
        deleteBWhile(BGoes.SHUTS_DOWN);
    }

    @Test
    void deletingAControllerWhoseVmHungUpNeverStallsItsNeighbour() throws Exception {
        deleteBWhile(BGoes.HUNG_UP);
    }

    @Test
    void deletingAControllerWhoseVmStoppedButStaysEndsTheSessionAtTheBound() throws Exception {
        deleteBWhile(BGoes.STOPS_AND_STAYS);
    }
}
