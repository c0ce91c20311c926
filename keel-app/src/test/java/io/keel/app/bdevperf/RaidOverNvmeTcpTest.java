package io.keel.app.bdevperf;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.app.nvme.NvmeTarget;
import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevTestApp;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raid1 whose members are two NVMe/TCP namespaces of a Keel target in this JVM (one subsystem each), under
 * {@code keel bdevperf -w verify} from two threads. Mid-run the target takes one namespace away (deletes its
 * subsystem, or removes the namespace): the raid goes degraded and no I/O error reaches bdevperf. The namespace
 * comes back, the host sees it again and {@code bdev_raid_add_base_bdev} rebuilds onto it while the run goes on;
 * once the run is over the two namespaces' bdevs on the target are identical.
 */
class RaidOverNvmeTcpTest {
    private static final long BLOCKS = 8192;
    private static final String NQN0 = "nqn.2016-06.io.spdk:raid-member0";
    private static final String NQN1 = "nqn.2016-06.io.spdk:raid-member1";
    private static final long WAIT_MILLIS = 10_000;

    @TempDir
    Path dir;
    BdevTestApp target;
    int port;

    @AfterEach
    void stop() throws Exception {
        if (target != null) {
            target.close();
        }
    }

    private void exportSubsystem(String nqn, String bdev) {
        target.rpc("nvmf_create_subsystem", params("nqn", nqn, "allow_any_host", true));
        target.rpc("nvmf_subsystem_add_ns", params("nqn", nqn, "namespace", params("bdev_name", bdev)));
        target.rpc("nvmf_subsystem_add_listener", params("nqn", nqn, "listen_address", params("trtype", "tcp",
                "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid", Integer.toString(port))));
    }

    private Map<String, Object> attach(String name, String nqn) {
        return params("name", name, "trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid",
                Integer.toString(port), "subnqn", nqn);
    }

    private static String entry(String method, Map<String, Object> p) {
        return "{\"method\":\"" + method + "\",\"params\":" + Json.write(p) + "}";
    }

    /** How the target takes Nvme1's namespace away, and how it and the host bring it back. */
    private interface Outage {
        void lose();

        void restore(HostRpc host);
    }

    @Test
    void subsystemDeletedUnderVerifyDegradesWithoutErrorsAndRebuildsOnceAttachedAgain() throws Exception {
        runScenario(new Outage() {
            @Override
            public void lose() {
                target.rpc("nvmf_delete_subsystem", params("nqn", NQN1));
            }

            @Override
            public void restore(HostRpc host) {
                host.call("bdev_nvme_detach_controller", params("name", "Nvme1")); // failed: no reconnect by default
                exportSubsystem(NQN1, "M1");
                host.call("bdev_nvme_attach_controller", attach("Nvme1", NQN1));
            }
        });
    }

    @Test
    void namespaceRemovedUnderVerifyDegradesWithoutErrorsAndRebuildsOnceAddedAgain() throws Exception {
        runScenario(new Outage() {
            @Override
            public void lose() {
                target.rpc("nvmf_subsystem_remove_ns", params("nqn", NQN1, "nsid", 1));
            }

            @Override
            public void restore(HostRpc host) {
                try {
                    // the raid lets go of the member at its first failed I/O, maybe before the host has heard of
                    // the removal (an asynchronous event): the old bdev must be gone before the namespace comes back
                    waitFor(() -> !host.exists("Nvme1n1"), "the host to drop the removed namespace's bdev");
                    target.rpc("nvmf_subsystem_add_ns", params("nqn", NQN1, "namespace", params("bdev_name", "M1")));
                    waitFor(() -> host.exists("Nvme1n1"), "the host to see the namespace again");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        });
    }

    private void runScenario(Outage outage) throws Exception {
        port = NvmeTarget.freePort();
        target = BdevTestApp.start(Files.createDirectories(dir.resolve("target")));
        for (String m : new String[] {"M0", "M1"}) {
            target.rpc("bdev_malloc_create", params("name", m, "block_size", 512, "num_blocks", BLOCKS));
        }
        target.rpc("nvmf_create_transport", params("trtype", "TCP"));
        exportSubsystem(NQN0, "M0");
        exportSubsystem(NQN1, "M1");

        Path cfg = Runs.config(dir, entry("bdev_nvme_attach_controller", attach("Nvme0", NQN0)),
                entry("bdev_nvme_attach_controller", attach("Nvme1", NQN1)),
                entry("bdev_raid_create", params("name", "R", "raid_level", "raid1", "base_bdevs",
                        List.of("Nvme0n1", "Nvme1n1"))));
        BdevperfOptions o = BdevperfOptions.of(cfg, Workload.VERIFY, 16, 4096, 8).withCores(CpuMask.of(0, 1))
                .withBdevNames(List.of("R")).withInterruptMode(true);
        List<String> steps = new ArrayList<>();
        CompletableFuture<Void> scenario = new CompletableFuture<>();
        Runs.Outcome out = Runs.run(o, app -> Thread.ofVirtual().start(() -> {
            try {
                loseAndRebuild(outage, new HostRpc(app), steps);
                scenario.complete(null);
            } catch (Throwable e) {
                scenario.completeExceptionally(e);
            }
        }));
        scenario.get(1, TimeUnit.SECONDS);
        assertThat(steps).containsExactly("degraded", "back", "rebuilt");
        assertThat(out.exitCode()).as("%s%n%s", out.err(), out.out()).isZero();
        assertThat(out.result().jobs()).hasSize(2).allSatisfy(j -> {
            assertThat(j.name()).isEqualTo("R");
            assertThat(j.ios()).isGreaterThan(100);
            assertThat(j.failed()).isZero();
            assertThat(j.miscompares()).isZero();
        });
        KeelThread reader = target.thread("compare", 0);
        MemorySegment m0 = readAll(reader, "M0");
        MemorySegment m1 = readAll(reader, "M1");
        assertThat(m0.mismatch(m1)).as("first byte where the members differ").isEqualTo(-1);
    }

    /** On the host while bdevperf runs: Nvme1's namespace goes away, then comes back and is rebuilt onto. */
    private void loseAndRebuild(Outage outage, HostRpc host, List<String> steps) throws Exception {
        Thread.sleep(1000);
        outage.lose();
        // degraded at once; the slot is free once the raid has released the member (I/O to it ended)
        waitFor(() -> raid(host).get("num_base_bdevs_operational").asInt() == 1
                && !raid(host).get("base_bdevs_list").toString().contains("Nvme1n1"), "the raid to let go of Nvme1n1");
        assertThat(raid(host).get("state").asText()).isEqualTo("online");
        steps.add("degraded");

        outage.restore(host);
        steps.add("back");
        host.call("bdev_raid_add_base_bdev", params("raid_bdev", "R", "base_bdev", "Nvme1n1"));
        waitFor(() -> !raid(host).has("process") && raid(host).get("num_base_bdevs_operational").asInt() == 2,
                "the rebuild to complete");
        steps.add("rebuilt");
    }

    private static JsonNode raid(HostRpc host) {
        return host.call("bdev_raid_get_bdevs", params("category", "all")).get(0);
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** RPCs to the bdevperf application, from a thread of the test. */
    private record HostRpc(KeelApp app) {
        boolean exists(String bdev) {
            return io.keel.bdev.BdevLayer.of(app).get(bdev) != null;
        }

        JsonNode call(String method, Map<String, Object> p) {
            var req = Json.object();
            req.put("jsonrpc", "2.0");
            req.put("id", 1);
            req.put("method", method);
            req.set("params", Json.tree(p));
            CompletableFuture<JsonNode> answer = new CompletableFuture<>();
            app.onAppThread(() -> app.methods().dispatch(req, answer::complete));
            JsonNode a = answer.orTimeout(20, TimeUnit.SECONDS).join();
            if (a.has("error")) {
                throw new AssertionError(method + " failed: " + a.get("error"));
            }
            return a.get("result");
        }
    }

    /** Every block of {@code bdev} on the target, read on {@code t} in 256-block pieces, one after another. */
    private MemorySegment readAll(KeelThread t, String bdev) {
        MemorySegment all = Arena.ofAuto().allocate(BLOCKS * 512, 4096);
        CompletableFuture<Void> done = new CompletableFuture<>();
        t.send(() -> {
            BdevDesc d = target.layer().open(bdev, false, (e, b) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            new Object() {
                void from(long block) {
                    if (block == BLOCKS) {
                        ch.put();
                        d.close();
                        done.complete(null);
                        return;
                    }
                    int rc = d.read(ch.context(), all.asSlice(block * 512, 256 * 512), block, 256, (io, ok, a) -> {
                        io.free();
                        if (ok) {
                            from(block + 256);
                        } else {
                            done.completeExceptionally(new AssertionError("read of " + bdev + " failed"));
                        }
                    }, null);
                    if (rc != 0) {
                        done.completeExceptionally(new AssertionError("read of " + bdev + " refused: " + rc));
                    }
                }
            }.from(0);
        });
        done.orTimeout(20, TimeUnit.SECONDS).join();
        return all;
    }
}
