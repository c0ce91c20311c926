package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.KeelThread;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario S1 on the host: I/O on three threads, then {@code bdev_nvme_detach_controller} while a controller reset
 * runs and an asynchronous event (a namespace added on the target) arrives, over and over. Each detach completes
 * within its bound, every I/O ends (completed or failed, never lost), the bdev and the controller are gone, the
 * bdev_io pool is whole again, and the same controller attaches again at once.
 */
class NvmeDetachRaceTest {
    static final int ROUNDS = 8;
    static final long DETACH_BOUND_MS = 15_000;

    @TempDir
    Path dir;
    NvmeTarget target;
    BdevTestApp host;

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (target != null) {
            target.close();
        }
    }

    @Test
    void detachUnderIoWithAResetAndAnEventRacingItCompletesAndLeavesNothingBehind() throws Exception {
        target = NvmeTarget.start(dir, 8192);
        target.app.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 512, "num_blocks", 1024));
        host = BdevTestApp.start(Files.createDirectories(dir.resolve("host")));
        List<KeelThread> threads = List.of(host.thread("s1_a", 0), host.thread("s1_b", 1), host.thread("s1_c", 0));
        for (int round = 0; round < ROUNDS; round++) {
            host.rpc("bdev_nvme_attach_controller",
                    target.attachParams("Nvme0", "ctrlr_loss_timeout_sec", 5, "reconnect_delay_sec", 1));
            List<HostLoad> loads = new ArrayList<>();
            List<CompletableFuture<HostLoad.Result>> ends = new ArrayList<>();
            for (int i = 0; i < threads.size(); i++) {
                HostLoad l = new HostLoad(threads.get(i), "Nvme0n1", i * 1024L, 8, 8);
                loads.add(l);
                ends.add(l.start(host.layer()));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> loads.stream().allMatch(l -> l.completed() > 20));

            // the race: a reset, an AEN (namespace 2 added on the target) and the detach, in an order that varies
            CompletableFuture<JsonNode> reset = round % 2 == 0
                    ? host.rpcAsync("bdev_nvme_reset_controller", params("name", "Nvme0")) : null;
            CompletableFuture<JsonNode> aen = target.app.rpcAsync("nvmf_subsystem_add_ns", params("nqn",
                    NvmeTarget.NQN, "namespace", params("bdev_name", "Malloc1", "nsid", 2)));
            if (round % 3 == 1) {
                Thread.sleep(round); // let the event or the reset get further before the detach
            }
            long t0 = System.nanoTime();
            JsonNode detached = host.rpcAsync("bdev_nvme_detach_controller", params("name", "Nvme0"))
                    .get(DETACH_BOUND_MS, TimeUnit.MILLISECONDS);
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertThat(detached.asBoolean()).isTrue();
            assertThat(took).as("round %d: detach took %d ms", round, took).isLessThan(DETACH_BOUND_MS);
            if (reset != null) {
                reset.handle((r, e) -> null).get(DETACH_BOUND_MS, TimeUnit.MILLISECONDS); // answered, either way
            }
            aen.get(10, TimeUnit.SECONDS);

            for (CompletableFuture<HostLoad.Result> end : ends) {
                HostLoad.Result r = end.get(10, TimeUnit.SECONDS);
                assertThat(r.removed()).isTrue();
                assertThat(r.mismatches()).isZero();
            }
            assertThat(host.rpc("bdev_nvme_get_controllers", null)).as("round %d", round).isEmpty();
            for (String name : List.of("Nvme0n1", "Nvme0n2")) {
                try {
                    host.rpc("bdev_get_bdevs", params("name", name));
                    throw new AssertionError("round " + round + ": " + name + " still exists");
                } catch (BdevTestApp.RpcError e) {
                    assertThat(e.code).isEqualTo(-19);
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> host.layer().poolAvailable() == host.layer().poolSize());
            target.app.rpc("nvmf_subsystem_remove_ns", params("nqn", NvmeTarget.NQN, "nsid", 2));
        }
        assertThat(host.rpc("bdev_nvme_attach_controller", target.attachParams("Nvme0")).get(0).asText())
                .isEqualTo("Nvme0n1");
    }
}
