package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.app.bdevperf.Bdevperf;
import io.keel.app.bdevperf.BdevperfOptions;
import io.keel.app.bdevperf.BdevperfResult;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keel bdevperf -z}: bdevperf starts and waits; each {@code perform_tests} call (SPDK's bdevperf.py) runs a
 * test with the call's values over the command line's and answers SPDK's result shape; bad values and a call while
 * a test runs get an error and change nothing; a signal ends it.
 */
class BdevperfWaitForTestsTest {
    /** Not the common pool: on two cores it has one worker, which bdevperf's run would hold. */
    private static final Executor OWN_THREAD = r -> Thread.ofPlatform().start(r);

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void eachPerformTestsCallRunsATestWithItsValues() throws Exception {
        Path config = dir.resolve("bdevs.json");
        Files.writeString(config, "{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":\"bdev_null_create\","
                + "\"params\":{\"name\":\"Null0\",\"num_blocks\":65536,\"block_size\":4096}}]}]}");
        Path socket = dir.resolve("bp.sock");
        // -q only on the command line: the rest must come with the first call
        BdevperfOptions o = new BdevperfOptions(CpuMask.of(0), config, socket, true, false, List.of(), 4, 0, null, -1, 0,
                0, false, 1, false, 0, 0, true);
        StringWriter out = new StringWriter();
        Bdevperf bdevperf = new Bdevperf(o, new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        CompletableFuture<BdevperfResult> ended = CompletableFuture.supplyAsync(() -> {
            try {
                return bdevperf.run();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, OWN_THREAD);
        try {
            awaitSocket(socket);
            try (RpcClient c = new RpcClient(socket, 30_000)) {
                c.call("framework_wait_init", null); // perform_tests is there from the start, callable once running
                assertThatThrownBy(() -> c.call("perform_tests", Json.MAPPER.readTree("{\"time_in_sec\":1}")))
                        .isInstanceOf(RpcClient.RpcError.class).hasMessageContaining("a workload (-w) is required");
                assertThatThrownBy(() -> c.call("perform_tests", Json.MAPPER.readTree(
                        "{\"time_in_sec\":1,\"workload_type\":\"sideways\",\"io_size\":\"4k\"}")))
                        .isInstanceOf(RpcClient.RpcError.class).hasMessageContaining("unknown workload 'sideways'");

                JsonNode first = c.call("perform_tests", Json.MAPPER.readTree(
                        "{\"time_in_sec\":1,\"workload_type\":\"randread\",\"io_size\":\"4k\"}"));
                JsonNode job = first.path("results").path(0);
                assertThat(job.path("job").asText()).isEqualTo("Null0");
                assertThat(job.path("workload").asText()).isEqualTo("randread");
                assertThat(job.path("queue_depth").asInt()).isEqualTo(4);
                assertThat(job.path("io_size").asInt()).isEqualTo(4096);
                assertThat(job.path("iops").asDouble()).isPositive();
                assertThat(first.path("core_count").asInt()).isEqualTo(1);

                // the values of the last call stay; a second client's call while this test runs is refused
                CompletableFuture<JsonNode> second = CompletableFuture.supplyAsync(() -> {
                    try (RpcClient c2 = new RpcClient(socket, 30_000)) {
                        return c2.call("perform_tests", Json.MAPPER.readTree("{\"queue_depth\":8,\"workload_type\":\"randwrite\"}"));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, OWN_THREAD);
                Thread.sleep(300);
                assertThat(second).isNotDone();
                assertThatThrownBy(() -> c.call("perform_tests", null)).isInstanceOf(RpcClient.RpcError.class)
                        .hasMessageContaining("Another test is already in progress");
                JsonNode job2 = second.get(20, TimeUnit.SECONDS).path("results").path(0);
                assertThat(job2.path("workload").asText()).isEqualTo("randwrite");
                assertThat(job2.path("queue_depth").asInt()).isEqualTo(8);
                assertThat(job2.path("io_size").asInt()).isEqualTo(4096);
                assertThat(job2.path("runtime").asDouble()).isBetween(0.9, 3.0);
            }
        } finally {
            bdevperf.stop();
        }
        BdevperfResult r = ended.get(30, TimeUnit.SECONDS);
        assertThat(r.exitCode()).isZero();
        assertThat(out.toString()).contains("randread").contains("randwrite"); // each test printed its table
    }

    private static void awaitSocket(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(100);
    }
}
