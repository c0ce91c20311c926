package io.keel.bdev.delay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import io.keel.bdev.passthru.VbdevHarness.IoResult;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DelayBdevTest {
    private static final int BLOCK = 512;
    private static final long MS = 1_000_000;
    /** Generous: the machine is a shared 2-core VM. */
    private static final long SLACK = 500 * MS;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        h.malloc("Malloc0", 1024, BLOCK);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private static Map<String, Object> create(String name, String base, long avgRead, long p99Read, long avgWrite,
            long p99Write) {
        Map<String, Object> p = new HashMap<>();
        p.put("name", name);
        p.put("base_bdev_name", base);
        p.put("avg_read_latency", avgRead);
        p.put("p99_read_latency", p99Read);
        p.put("avg_write_latency", avgWrite);
        p.put("p99_write_latency", p99Write);
        return p;
    }

    @Test
    void dataGoesThroughTheDelay() {
        assertThat(h.result("bdev_delay_create", create("Delay0", "Malloc0", 100, 200, 100, 200)).asText()).isEqualTo("Delay0");
        JsonNode b = h.bdev("Delay0");
        assertThat(b.get("product_name").asText()).isEqualTo("delay");
        assertThat(b.get("driver_specific").get("delay").get("avg_write_latency").asLong()).isEqualTo(100);
        assertThat(b.get("supported_io_types")).isEqualTo(h.bdev("Malloc0").get("supported_io_types"));
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).isTrue();
        Handle io = h.open("Delay0");
        List<CompletableFuture<IoResult>> writes = new ArrayList<>();
        List<MemorySegment> data = new ArrayList<>();
        for (int i = 0; i < 16; i++) { // all in flight at once
            data.add(h.pattern(8 * BLOCK, i));
            writes.add(io.submit(IoType.WRITE, i * 8L, 8, data.get(i)));
        }
        writes.forEach(f -> assertThat(VbdevHarness.done(f).ok()).isTrue());
        for (int i = 0; i < 16; i++) {
            MemorySegment back = h.buffer(8 * BLOCK);
            assertThat(io.read(i * 8L, back).ok()).isTrue();
            assertThat(VbdevHarness.differences(back, data.get(i))).isEmpty();
        }
        assertThat(io.run(IoType.UNMAP, 0, 8, null).ok()).isTrue();
        assertThat(io.run(IoType.FLUSH, 0, 8, null).ok()).isTrue();
    }

    @Test
    void readsAndWritesTakeAtLeastTheirLatency() {
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 30_000, 30_000, 15_000, 15_000));
        Handle io = h.open("Delay0");
        for (int i = 0; i < 4; i++) {
            IoResult w = io.write(i, h.pattern(BLOCK, i));
            assertThat(w.ok()).isTrue();
            assertThat(w.latencyNanos()).as("write latency").isBetween(15 * MS, 15 * MS + SLACK);
            IoResult r = io.read(i, h.buffer(BLOCK));
            assertThat(r.ok()).isTrue();
            assertThat(r.latencyNanos()).as("read latency").isBetween(30 * MS, 30 * MS + SLACK);
        }
        IoResult unmap = io.run(IoType.UNMAP, 0, 1, null);
        assertThat(unmap.latencyNanos()).as("other types are not delayed").isLessThan(15 * MS);
    }

    @Test
    void aboutOneInAHundredGetsTheP99Latency() {
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 0, 40_000, 0, 0));
        Handle io = h.open("Delay0");
        List<CompletableFuture<IoResult>> reads = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            reads.add(io.submit(IoType.READ, i % 1024, 1, h.buffer(BLOCK)));
        }
        long slow = reads.stream().map(VbdevHarness::done).filter(r -> r.latencyNanos() >= 40 * MS).count();
        assertThat(slow).as("reads held for the p99 latency").isBetween(1L, 40L);
    }

    @Test
    void updateLatencyChangesTheDelayOfLaterIo() {
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 1000, 1000, 1000, 1000));
        Handle io = h.open("Delay0");
        assertThat(io.write(0, h.pattern(BLOCK, 1)).latencyNanos()).isLessThan(1 * MS + SLACK);
        for (String t : new String[] {"avg_write", "p99_write"}) {
            assertThat(h.result("bdev_delay_update_latency", Map.of("delay_bdev_name", "Delay0", "latency_type", t,
                    "latency_us", 80_000)).asBoolean()).isTrue();
        }
        IoResult w = io.write(0, h.pattern(BLOCK, 1));
        assertThat(w.latencyNanos()).as("write after the update").isBetween(80 * MS, 80 * MS + SLACK);
        IoResult r = io.read(0, h.buffer(BLOCK));
        assertThat(r.latencyNanos()).as("reads keep theirs").isLessThan(80 * MS);
        JsonNode p = h.configParams("bdev_delay_create");
        assertThat(p.get("avg_write_latency").asLong()).isEqualTo(80_000);
        assertThat(p.get("p99_write_latency").asLong()).isEqualTo(80_000);
        assertThat(p.get("avg_read_latency").asLong()).isEqualTo(1000);
    }

    @Test
    void aResetAbortsHeldIoThenGoesToTheBase() throws Exception {
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 0, 0, 10_000_000, 10_000_000)); // writes: 10 s
        Handle io = h.open("Delay0");
        CompletableFuture<IoResult> held = io.submit(IoType.WRITE, 0, 1, h.pattern(BLOCK, 2));
        Thread.sleep(100);
        assertThat(held).isNotDone();
        assertThat(io.reset().status()).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(held.get(1, TimeUnit.SECONDS).status()).isEqualTo(BdevIoStatus.ABORTED);
        assertThat(io.read(0, h.buffer(BLOCK)).ok()).isTrue();
    }

    @Test
    void deletingTheBaseRemovesTheDelayBdev() {
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 10, 10, 10, 10));
        Handle user = h.open("Delay0");
        assertThat(user.write(0, h.pattern(BLOCK, 3)).ok()).isTrue();
        assertThat(h.result("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
        assertThat(user.removed).isTrue();
        assertThat(h.bdev("Delay0")).isNull();
        assertThat(h.configMethods()).doesNotContain("bdev_delay_create");
        h.malloc("Malloc0", 1024, BLOCK); // as SPDK: the association outlives the base's removal
        assertThat(h.bdev("Delay0")).isNotNull();
        assertThat(h.result("bdev_delay_delete", Map.of("name", "Delay0")).asBoolean()).isTrue();
        assertThat(h.bdev("Delay0")).isNull();
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).isFalse();
    }

    @Test
    void rpcErrorsAreSpdks() {
        assertThat(h.error("bdev_delay_create", create("D", "Malloc0", 100, 50, 10, 10))).as("p99 < avg").isEqualTo(-22);
        assertThat(h.error("bdev_delay_create", create("D", "Malloc0", -1, 50, 10, 10))).isEqualTo(-32602);
        Map<String, Object> missing = create("D", "Malloc0", 1, 1, 1, 1);
        missing.remove("p99_write_latency");
        assertThat(h.error("bdev_delay_create", missing)).isEqualTo(-32602);
        assertThat(h.error("bdev_delay_create", Map.of("name", "D", "base_bdev_name", "Malloc0", "avg_read_latency", 1.5,
                "p99_read_latency", 2, "avg_write_latency", 1, "p99_write_latency", 1))).isEqualTo(-32602);
        h.result("bdev_delay_create", create("D", "Malloc0", 1, 1, 1, 1));
        assertThat(h.error("bdev_delay_create", create("D", "Malloc0", 1, 1, 1, 1))).isEqualTo(-17);
        assertThat(h.error("bdev_delay_create", create("D2", "Malloc0", 1, 1, 1, 1))).as("base claimed").isEqualTo(-1);
        assertThat(h.error("bdev_delay_update_latency", Map.of("delay_bdev_name", "D", "latency_type", "p50_read",
                "latency_us", 1))).isEqualTo(-32602);
        assertThat(h.error("bdev_delay_update_latency", Map.of("delay_bdev_name", "Nope", "latency_type", "avg_read",
                "latency_us", 1))).as("as SPDK: -32602, not -19").isEqualTo(-32602);
        assertThat(h.error("bdev_delay_update_latency", Map.of("delay_bdev_name", "D", "latency_type", "avg_read")))
                .isEqualTo(-32602);
        assertThat(h.error("bdev_delay_delete", Map.of("name", "Nope"))).isEqualTo(-19);
        assertThat(h.error("bdev_delay_delete", Map.of("name", "Malloc0"))).isEqualTo(-19);
    }

    @Test
    void configListsTheDelayAfterItsBaseWithCurrentLatencies() throws Exception {
        assertThat(h.result("bdev_delay_create", create("Delay1", "Later", 5, 6, 7, 8)).asText())
                .as("deferred until its base exists").isEqualTo("Delay1");
        h.result("bdev_delay_create", create("Delay0", "Malloc0", 10, 20, 30, 40));
        h.result("bdev_delay_update_latency", Map.of("delay_bdev_name", "Delay0", "latency_type", "p99_read", "latency_us", 25));
        assertThat(h.configMethods()).containsSubsequence("bdev_malloc_create", "bdev_delay_create", "bdev_wait_for_examine")
                .containsOnlyOnce("bdev_delay_create");
        JsonNode p = h.configParams("bdev_delay_create");
        assertThat(p.get("name").asText()).isEqualTo("Delay0");
        assertThat(p.get("base_bdev_name").asText()).isEqualTo("Malloc0");
        assertThat(p.get("uuid").asText()).isEqualTo(h.bdev("Delay0").get("uuid").asText());
        assertThat(List.of(p.get("avg_read_latency").asLong(), p.get("p99_read_latency").asLong(),
                p.get("avg_write_latency").asLong(), p.get("p99_write_latency").asLong())).containsExactly(10L, 25L, 30L, 40L);
        h.malloc("Later", 16, 4096);
        assertThat(h.bdev("Delay1").get("driver_specific").get("delay").get("p99_write_latency").asLong()).isEqualTo(8);
        Path saved = h.saveConfig(dir);
        JsonNode before = h.bdevConfig();
        h.close();

        h = VbdevHarness.start(dir, saved);
        assertThat(h.bdevConfig()).isEqualTo(before);
    }
}
