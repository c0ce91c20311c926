package io.keel.vhost;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevTestApp;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.testing.BlkLoad;
import io.keel.vhost.testing.FakeFrontEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S2 without QEMU: controllers vhost.A and vhost.B on one reactor (cpumask 1), a front end each. B's bdev delays
 * every I/O by 400 ms, so B's session has requests at the bdev when vhost_delete_controller is called for it —
 * once while B is mid-I/O, once while B is going away (hung up) at the same moment. A runs I/O throughout: none of
 * it fails and no completion waits for the delete (its longest gap stays far below the drain of B's requests); the
 * delete completes once B's session is torn down.
 */
class VhostDeleteNeighbourTest {
    static final long DELAY_US = 400_000;
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

    private void deleteBWhile(boolean bHangsUp) throws Exception {
        BlkLoad load = new BlkLoad(a);
        Thread loader = new Thread(load, "guest-A-io");
        loader.start();
        Thread.sleep(300); // A is warm and running
        bMidIo();
        Thread.sleep(50);
        assertThat(t.rpc("vhost_get_controllers", Map.of("name", "vhost.B")).get(0).at("/sessions/0/inflight_task_cnt")
                .asInt()).as("B's requests wait at its bdev").isEqualTo(8);
        long from = System.nanoTime();
        var delete = t.rpcAsync("vhost_delete_controller", Map.of("ctrlr", "vhost.B"));
        if (bHangsUp) {
            b.hangUp();
        }
        assertThat(delete.get(10, TimeUnit.SECONDS).asBoolean()).isTrue();
        long to = System.nanoTime();
        Thread.sleep(100);
        load.stop();
        loader.join(10_000);

        long gap = load.maxGap(from, to);
        System.out.printf("delete took %.1f ms; A completed %d I/Os, longest gap during the delete %.2f ms%n",
                (to - from) / 1e6, load.completed(), gap / 1e6);
        assertThat(load.failed()).as("A's failed I/Os").isZero();
        assertThat(to - from).as("the delete waited for B's requests at the bdev")
                .isGreaterThan(DELAY_US * 1000 / 4);
        assertThat(gap).as("A's longest completion gap during the delete").isLessThan(GAP_BOUND_NANOS);
        assertThat(gap).as("A never waited for B's drain").isLessThan(to - from);
        List<String> left = new ArrayList<>();
        t.rpc("vhost_get_controllers", null).forEach(c -> left.add(c.get("ctrlr").asText()));
        assertThat(left).containsExactly("vhost.A");
        assertThat(Files.exists(dir.resolve("vhost.B"))).isFalse();
        if (!bHangsUp) {
            assertThat(b.qemu.closedByBackEnd()).as("B's session ended").isTrue();
        }
        // A goes on, and B's bdev is free
        assertThat(a.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(t.rpc("bdev_delay_delete", Map.of("name", "DelayB")).asBoolean()).isTrue();
    }

    @Test
    void deletingAControllerMidIoNeverStallsItsNeighbour() throws Exception {
        deleteBWhile(false);
    }

    @Test
    void deletingAControllerWhoseVmIsGoingAwayNeverStallsItsNeighbour() throws Exception {
        deleteBWhile(true);
    }
}
