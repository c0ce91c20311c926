package io.keel.bdev.error;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import io.keel.bdev.passthru.VbdevHarness.IoResult;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorBdevTest {
    private static final int BLOCK = 512;

    @TempDir
    Path dir;
    VbdevHarness h;
    Handle ee;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        h.malloc("Malloc0", 1024, BLOCK);
        assertThat(h.result("bdev_error_create", Map.of("base_name", "Malloc0")).asBoolean()).isTrue();
        ee = h.open("EE_Malloc0");
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private void inject(String ioType, String errorType, Object... more) {
        Map<String, Object> p = new HashMap<>(Map.of("name", "EE_Malloc0", "io_type", ioType, "error_type", errorType));
        for (int i = 0; i < more.length; i += 2) {
            p.put((String) more[i], more[i + 1]);
        }
        assertThat(h.result("bdev_error_inject_error", p).asBoolean()).isTrue();
    }

    @Test
    void withoutInjectionsDataGoesThroughToTheBase() {
        JsonNode b = h.bdev("EE_Malloc0");
        assertThat(b.get("product_name").asText()).isEqualTo("Error Injection Disk");
        assertThat(b.get("num_blocks").asLong()).isEqualTo(1024);
        assertThat(b.get("driver_specific").get("error_disk").get("base_bdev").asText()).isEqualTo("Malloc0");
        assertThat(b.get("supported_io_types")).isEqualTo(h.bdev("Malloc0").get("supported_io_types"));
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).isTrue();
        for (int i = 0; i < 8; i++) {
            MemorySegment data = h.pattern(16 * BLOCK, i);
            assertThat(ee.write(i * 100, data).ok()).isTrue();
            MemorySegment back = h.buffer(16 * BLOCK);
            assertThat(ee.read(i * 100, back).ok()).isTrue();
            assertThat(VbdevHarness.differences(back, data)).isEmpty();
        }
        assertThat(ee.run(IoType.UNMAP, 0, 8, null).ok()).isTrue();
        assertThat(ee.run(IoType.FLUSH, 0, 1024, null).ok()).isTrue();
    }

    @Test
    void failureFailsExactlyNumIosOfThatType() {
        inject("write", "failure", "num", 2);
        MemorySegment data = h.pattern(BLOCK, 1);
        assertThat(ee.read(0, h.buffer(BLOCK)).ok()).as("reads are not picked").isTrue();
        assertThat(ee.write(0, data).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.write(1, data).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.write(2, data).status()).as("num=2 used up").isEqualTo(BdevIoStatus.SUCCESS);

        inject("unmap", "failure"); // num defaults to 1
        assertThat(ee.run(IoType.UNMAP, 0, 1, null).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.run(IoType.UNMAP, 0, 1, null).status()).isEqualTo(BdevIoStatus.SUCCESS);
        inject("flush", "failure");
        assertThat(ee.run(IoType.FLUSH, 0, 1, null).status()).isEqualTo(BdevIoStatus.FAILED);
    }

    @Test
    void nvmeFailureCompletesWithTheStatusCode() {
        inject("read", "nvme_failure", "nvme_sct", 2, "nvme_sc", 0x81);
        IoResult r = ee.read(0, h.buffer(BLOCK));
        assertThat(r.status()).isEqualTo(BdevIoStatus.NVME_ERROR);
        assertThat(r.sct()).isEqualTo(2);
        assertThat(r.sc()).isEqualTo(0x81);
        assertThat(ee.read(0, h.buffer(BLOCK)).ok()).isTrue();
    }

    @Test
    void corruptDataFlipsTheByteAtTheOffsetOfWritesAndReads() {
        MemorySegment original = h.pattern(4 * BLOCK, 5);
        inject("write", "corrupt_data", "corrupt_offset", 700, "corrupt_value", 0xFF);
        assertThat(ee.write(8, h.copy(original)).ok()).as("a corrupted write still succeeds").isTrue();
        MemorySegment stored = h.buffer(4 * BLOCK);
        assertThat(ee.read(8, stored).ok()).isTrue();
        assertThat(VbdevHarness.differences(stored, original)).containsExactly(700L);
        assertThat(stored.get(JAVA_BYTE, 700)).isEqualTo((byte) (original.get(JAVA_BYTE, 700) ^ 0xFF));

        assertThat(ee.write(8, h.copy(original)).ok()).isTrue();
        inject("read", "corrupt_data", "corrupt_offset", 3 * BLOCK + 1, "corrupt_value", 0x5A);
        MemorySegment read = h.buffer(4 * BLOCK);
        assertThat(ee.read(8, read).ok()).isTrue();
        assertThat(VbdevHarness.differences(read, original)).containsExactly(3L * BLOCK + 1);
        assertThat(read.get(JAVA_BYTE, 3 * BLOCK + 1)).isEqualTo((byte) (original.get(JAVA_BYTE, 3 * BLOCK + 1) ^ 0x5A));
        MemorySegment again = h.buffer(4 * BLOCK);
        assertThat(ee.read(8, again).ok()).isTrue();
        assertThat(VbdevHarness.differences(again, original)).as("stored data was never touched").isEmpty();
    }

    @Test
    void nomemIsResubmittedByTheLayerUntilTheIoSucceeds() {
        inject("write", "nomem", "num", 3);
        MemorySegment data = h.pattern(2 * BLOCK, 8);
        assertThat(ee.write(30, data).ok()).isTrue();
        assertThat(h.onWorker(() -> ee.channel().nomemTotal())).as("bounced three times, then went through").isEqualTo(3L);
        MemorySegment back = h.buffer(2 * BLOCK);
        assertThat(ee.read(30, back).ok()).isTrue();
        assertThat(VbdevHarness.differences(back, data)).isEmpty();
    }

    @Test
    void pendingHoldsTheIoUntilAResetThroughTheErrorBdev() throws Exception {
        inject("read", "pending", "num", 2);
        CompletableFuture<IoResult> first = ee.submit(IoType.READ, 0, 1, h.buffer(BLOCK));
        CompletableFuture<IoResult> second = ee.submit(IoType.READ, 1, 1, h.buffer(BLOCK));
        Thread.sleep(200);
        assertThat(first).as("held").isNotDone();
        assertThat(second).as("held").isNotDone();
        assertThat(ee.read(2, h.buffer(BLOCK)).ok()).as("num=2 used up").isTrue();
        assertThat(h.onWorker(() -> ee.channel().outstanding())).isEqualTo(2);

        assertThat(ee.reset().status()).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(first.get(1, TimeUnit.SECONDS).status()).isEqualTo(BdevIoStatus.ABORTED);
        assertThat(second.get(1, TimeUnit.SECONDS).status()).isEqualTo(BdevIoStatus.ABORTED);
    }

    @Test
    void resumePendingSubmitsHeldIoAgain() throws Exception {
        inject("write", "pending", "num", 5);
        MemorySegment data = h.pattern(BLOCK, 4);
        CompletableFuture<IoResult> held = ee.submit(IoType.WRITE, 9, 1, data);
        Thread.sleep(100);
        assertThat(held).isNotDone();
        assertThat(h.result("bdev_error_resume_pending", Map.of("name", "EE_Malloc0")).asBoolean()).isTrue();
        assertThat(held.get(5, TimeUnit.SECONDS).ok()).isTrue();
        assertThat(ee.write(10, data).ok()).as("the pending injection ended").isTrue();
        MemorySegment back = h.buffer(BLOCK);
        assertThat(ee.read(9, back).ok()).isTrue();
        assertThat(VbdevHarness.differences(back, data)).isEmpty();
        assertThat(h.error("bdev_error_resume_pending", Map.of("name", "Malloc0"))).isEqualTo(-19);
    }

    @Test
    void queueDepthPicksOnlyIoBeyondIt() {
        inject("write", "failure", "num", 1, "queue_depth", 1);
        MemorySegment data = h.pattern(BLOCK, 2);
        assertThat(ee.write(0, data).ok()).as("alone: in flight 0 < 1").isTrue();
        // both submitted from one message on the worker, so the second finds the first still in flight
        List<CompletableFuture<IoResult>> both = new java.util.ArrayList<>();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        h.worker.send(() -> {
            both.add(ee.submit(IoType.WRITE, 0, 1, data));
            both.add(ee.submit(IoType.WRITE, 1, 1, data));
            sent.complete(null);
        });
        sent.join();
        CompletableFuture<IoResult> a = both.get(0);
        CompletableFuture<IoResult> b = both.get(1);
        List<BdevIoStatus> statuses = List.of(VbdevHarness.done(a).status(), VbdevHarness.done(b).status());
        assertThat(statuses).containsExactlyInAnyOrder(BdevIoStatus.SUCCESS, BdevIoStatus.FAILED);
    }

    @Test
    void clearAndAllApplyToEveryType() {
        inject("all", "failure", "num", 10);
        assertThat(ee.read(0, h.buffer(BLOCK)).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.write(0, h.buffer(BLOCK)).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.run(IoType.UNMAP, 0, 1, null).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.run(IoType.FLUSH, 0, 1, null).status()).isEqualTo(BdevIoStatus.FAILED);
        assertThat(ee.run(IoType.WRITE_ZEROES, 0, 1, null).ok()).as("not an injectable type").isTrue();
        inject("clear", "failure");
        assertThat(ee.read(0, h.buffer(BLOCK)).ok()).isTrue();
        assertThat(ee.write(0, h.buffer(BLOCK)).ok()).isTrue();
        assertThat(ee.run(IoType.UNMAP, 0, 1, null).ok()).isTrue();
        assertThat(ee.run(IoType.FLUSH, 0, 1, null).ok()).isTrue();
    }

    @Test
    void deletingTheBaseRemovesTheErrorBdevAndItsConfig() throws Exception {
        inject("read", "pending");
        CompletableFuture<IoResult> held = ee.submit(IoType.READ, 0, 1, h.buffer(BLOCK));
        Thread.sleep(50);
        assertThat(h.result("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
        assertThat(held.get(1, TimeUnit.SECONDS).status()).as("held I/O aborted on removal").isEqualTo(BdevIoStatus.ABORTED);
        assertThat(ee.removed).isTrue();
        assertThat(h.bdev("EE_Malloc0")).isNull();
        assertThat(h.configMethods()).doesNotContain("bdev_error_create");
        h.malloc("Malloc0", 1024, BLOCK);
        assertThat(h.bdev("EE_Malloc0")).as("as SPDK, the config went with the error bdev").isNull();

        assertThat(h.result("bdev_error_create", Map.of("base_name", "Malloc0")).asBoolean()).isTrue();
        assertThat(h.result("bdev_error_delete", Map.of("name", "EE_Malloc0")).asBoolean()).isTrue();
        assertThat(h.bdev("EE_Malloc0")).isNull();
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).isFalse();
    }

    @Test
    void rpcErrorsAreSpdks() {
        String[] inject = {"bdev_error_inject_error"};
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "reset", "error_type", "failure"))).isEqualTo(-32602);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "boom"))).isEqualTo(-32602);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read"))).isEqualTo(-32602);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "failure", "num", -1)))
                .isEqualTo(-32602);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "corrupt_data",
                "corrupt_value", 256))).isEqualTo(-32602);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "corrupt_data")))
                .as("corrupt_value 0").isEqualTo(-22);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "nvme_failure")))
                .as("no sct/sc").isEqualTo(-22);
        assertThat(h.error(inject[0], Map.of("name", "EE_Malloc0", "io_type", "read", "error_type", "failure", "nvme_sc", 1)))
                .as("sct/sc without nvme_failure").isEqualTo(-22);
        assertThat(h.error(inject[0], Map.of("name", "Nope", "io_type", "read", "error_type", "failure"))).isEqualTo(-19);
        assertThat(h.error(inject[0], Map.of("name", "Malloc0", "io_type", "read", "error_type", "failure"))).isEqualTo(-19);

        assertThat(h.error("bdev_error_create", Map.of("base_name", "Malloc0"))).as("twice").isEqualTo(-17);
        assertThat(h.error("bdev_error_create", Map.of())).isEqualTo(-32602);
        h.malloc("Malloc1", 64, BLOCK);
        h.result("bdev_passthru_create", Map.of("name", "PT1", "base_bdev_name", "Malloc1"));
        assertThat(h.error("bdev_error_create", Map.of("base_name", "Malloc1"))).as("base claimed").isEqualTo(-1);
        assertThat(h.configMethods()).as("nothing left of the refused create").containsOnlyOnce("bdev_error_create");
        assertThat(h.error("bdev_error_delete", Map.of("name", "Nope"))).isEqualTo(-19);
        assertThat(h.error("bdev_error_delete", Map.of("name", "Malloc1"))).isEqualTo(-19);
        assertThat(h.error("bdev_error_resume_pending", Map.of("name", "Nope"))).isEqualTo(-19);
    }

    @Test
    void configHasTheErrorBdevAfterItsBaseButNotItsInjections() throws Exception {
        inject("write", "failure", "num", 100);
        h.result("bdev_error_create", Map.of("base_name", "Later", "uuid", "6f1f2f83-4a4b-4c3d-8e5f-0a1b2c3d4e5f"));
        List<String> methods = h.configMethods();
        assertThat(methods).containsSubsequence("bdev_malloc_create", "bdev_error_create", "bdev_error_create");
        JsonNode p = h.configParams("bdev_error_create");
        assertThat(p.get("base_name").asText()).isEqualTo("Malloc0");
        assertThat(p.has("uuid")).as("SPDK writes only a configured uuid").isFalse();
        String uuid = h.bdev("EE_Malloc0").get("uuid").asText();
        Path saved = h.saveConfig(dir);
        JsonNode before = h.bdevConfig();
        h.close();

        h = VbdevHarness.start(dir, saved);
        assertThat(h.bdevConfig()).isEqualTo(before);
        assertThat(h.bdev("EE_Malloc0").get("uuid").asText()).as("derived from the base's").isEqualTo(uuid);
        Handle io = h.open("EE_Malloc0");
        assertThat(io.write(0, h.pattern(BLOCK, 1)).ok()).as("injections are not restored").isTrue();
        h.malloc("Later", 8, 4096);
        assertThat(h.bdev("EE_Later").get("uuid").asText()).isEqualTo("6f1f2f83-4a4b-4c3d-8e5f-0a1b2c3d4e5f");
    }
}
