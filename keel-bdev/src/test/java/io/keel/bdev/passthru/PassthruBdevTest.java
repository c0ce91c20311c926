package io.keel.bdev.passthru;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PassthruBdevTest {
    private static final int BLOCK = 512;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        h.malloc("Malloc0", 2048, BLOCK);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private static Map<String, Object> create(String name, String base) {
        return Map.of("name", name, "base_bdev_name", base);
    }

    @Test
    void dataWrittenThroughThePassthruIsOnTheBaseAndReadsBack() {
        assertThat(h.result("bdev_passthru_create", create("PT0", "Malloc0")).asText()).isEqualTo("PT0");
        JsonNode pt = h.bdev("PT0");
        assertThat(pt.get("product_name").asText()).isEqualTo("passthru");
        assertThat(pt.get("num_blocks").asLong()).isEqualTo(2048);
        assertThat(pt.get("block_size").asInt()).isEqualTo(BLOCK);
        assertThat(pt.get("driver_specific").get("passthru").get("base_bdev_name").asText()).isEqualTo("Malloc0");
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).as("the base is claimed").isTrue();
        assertThat(h.bdev("Malloc0").get("claim_type").asText()).isEqualTo("exclusive_write");

        Handle io = h.open("PT0");
        long[] offsets = {0, 1, 100, 1000, 2040};
        MemorySegment[] written = new MemorySegment[offsets.length];
        for (int i = 0; i < offsets.length; i++) {
            written[i] = h.pattern(8 * BLOCK, i + 1);
            assertThat(io.write(offsets[i], written[i]).ok()).isTrue();
        }
        Handle base = h.open("Malloc0", false); // a claimed bdev still opens read-only
        for (int i = 0; i < offsets.length; i++) {
            MemorySegment through = h.buffer(8 * BLOCK);
            MemorySegment direct = h.buffer(8 * BLOCK);
            assertThat(io.read(offsets[i], through).ok()).isTrue();
            assertThat(base.read(offsets[i], direct).ok()).isTrue();
            if (i + 1 < offsets.length && offsets[i + 1] < offsets[i] + 8) {
                continue; // overlapped by the next write
            }
            assertThat(VbdevHarness.differences(through, written[i])).as("read through passthru at " + offsets[i]).isEmpty();
            assertThat(VbdevHarness.differences(direct, written[i])).as("read from the base at " + offsets[i]).isEmpty();
        }
        int rc = h.onWorker(() -> {
            try {
                h.layer().open("Malloc0", true, (e, b) -> { }).close();
                return 0;
            } catch (BdevException e) {
                return e.errno();
            }
        });
        assertThat(rc).as("nobody else opens the claimed base for writing").isEqualTo(-1);
    }

    @Test
    void everyIoTypeTheBaseSupportsIsForwarded() {
        h.result("bdev_passthru_create", create("PT0", "Malloc0"));
        assertThat(h.bdev("PT0").get("supported_io_types")).isEqualTo(h.bdev("Malloc0").get("supported_io_types"));
        Handle io = h.open("PT0");
        MemorySegment data = h.pattern(4 * BLOCK, 9);
        assertThat(io.write(10, data).ok()).isTrue();

        assertThat(io.run(IoType.COMPARE, 10, 4, h.copy(data)).status()).isEqualTo(BdevIoStatus.SUCCESS);
        MemorySegment other = h.pattern(4 * BLOCK, 10);
        assertThat(io.run(IoType.COMPARE, 10, 4, other).status()).as("miscompare passes up").isEqualTo(BdevIoStatus.MISCOMPARE);
        assertThat(io.run(IoType.FLUSH, 0, 2048, null).ok()).isTrue();
        assertThat(io.reset().ok()).isTrue();

        assertThat(io.run(IoType.UNMAP, 10, 2, null).ok()).isTrue();
        assertThat(io.run(IoType.WRITE_ZEROES, 12, 1, null).ok()).isTrue();
        MemorySegment back = h.buffer(4 * BLOCK);
        assertThat(io.read(10, back).ok()).isTrue();
        assertThat(back.asSlice(0, 3 * BLOCK).mismatch(h.buffer(3 * BLOCK))).as("unmapped and zeroed").isEqualTo(-1);
        assertThat(back.asSlice(3 * BLOCK).mismatch(data.asSlice(3 * BLOCK))).as("untouched").isEqualTo(-1);

        assertThat(io.run(IoType.READ, 2047, 2, h.buffer(2 * BLOCK)).rc()).as("the passthru's own range check").isEqualTo(-22);
    }

    @Test
    void deletingTheBaseRemovesThePassthruAndItComesBackWithTheBase() {
        h.result("bdev_passthru_create", create("PT0", "Malloc0"));
        Handle user = h.open("PT0");

        assertThat(h.result("bdev_malloc_delete", Map.of("name", "Malloc0")).asBoolean()).isTrue();
        assertThat(user.removed).as("the passthru's user was told REMOVE").isTrue();
        assertThat(h.bdev("PT0")).isNull();
        assertThat(h.bdev("Malloc0")).isNull();
        assertThat(h.configMethods()).doesNotContain("bdev_passthru_create");

        h.malloc("Malloc0", 2048, BLOCK); // as SPDK: the association outlives a hot-remove of the base
        assertThat(h.bdev("PT0")).as("rebuilt on examine").isNotNull();
        assertThat(h.result("bdev_passthru_delete", Map.of("name", "PT0")).asBoolean()).isTrue();
        assertThat(h.bdev("PT0")).isNull();
        assertThat(h.bdev("Malloc0").get("claimed").asBoolean()).as("claim released").isFalse();
        h.result("bdev_malloc_delete", Map.of("name", "Malloc0"));
        h.malloc("Malloc0", 2048, BLOCK);
        assertThat(h.bdev("PT0")).as("deleted for good").isNull();
    }

    @Test
    void aPassthruOnAMissingBaseIsBuiltWhenTheBaseArrives() {
        assertThat(h.result("bdev_passthru_create", create("PT1", "Later0")).asText()).isEqualTo("PT1");
        assertThat(h.bdev("PT1")).isNull();
        h.malloc("Later0", 64, 4096);
        assertThat(h.bdev("PT1").get("block_size").asInt()).isEqualTo(4096);
        assertThat(h.bdev("Later0").get("claimed").asBoolean()).isTrue();
    }

    @Test
    void rpcErrorsAreSpdks() {
        assertThat(h.error("bdev_passthru_create", Map.of("name", "PT0"))).as("missing base_bdev_name").isEqualTo(-32602);
        assertThat(h.error("bdev_passthru_create", Map.of("name", "PT0", "base_bdev_name", "Malloc0", "bogus", 1)))
                .isEqualTo(-32602);
        assertThat(h.error("bdev_passthru_create", Map.of("name", "PT0", "base_bdev_name", "Malloc0", "uuid", "nope")))
                .isEqualTo(-32602);
        h.result("bdev_passthru_create", create("PT0", "Malloc0"));
        assertThat(h.error("bdev_passthru_create", create("PT0", "Malloc0"))).as("same name").isEqualTo(-17);
        assertThat(h.error("bdev_passthru_create", create("PT1", "Malloc0"))).as("base claimed").isEqualTo(-1);
        assertThat(h.result("bdev_passthru_create", create("PT1", "PT0")).asText()).as("stacked").isEqualTo("PT1");
        h.malloc("Malloc1", 64, BLOCK);
        h.malloc("Malloc2", 64, BLOCK);
        assertThat(h.error("bdev_passthru_create", create("Malloc1", "Malloc2"))).as("name of another bdev").isEqualTo(-17);
        assertThat(h.bdev("Malloc2").get("claimed").asBoolean()).as("a refused create lets go of the base").isFalse();
        assertThat(h.result("bdev_passthru_create", create("PT2", "Malloc2")).asText()).isEqualTo("PT2");
        assertThat(h.error("bdev_passthru_delete", Map.of("name", "Nope"))).isEqualTo(-19);
        assertThat(h.error("bdev_passthru_delete", Map.of("name", "Malloc1"))).as("not a passthru").isEqualTo(-19);
        assertThat(h.error("bdev_passthru_delete", Map.of())).isEqualTo(-32602);
    }

    @Test
    void configListsThePassthruAfterItsBaseAndRestoresIt() throws Exception {
        UUID uuid = UUID.fromString("3b1b5b53-2a5c-4b62-9c0e-4f7f5e9e2d11");
        h.result("bdev_passthru_create", Map.of("name", "PT0", "base_bdev_name", "Malloc0", "uuid", uuid.toString()));
        h.result("bdev_passthru_create", create("PT1", "PT0"));
        List<String> methods = h.configMethods();
        assertThat(methods).containsSubsequence("bdev_set_options", "bdev_malloc_create", "bdev_passthru_create",
                "bdev_passthru_create", "bdev_wait_for_examine");
        JsonNode p = h.configParams("bdev_passthru_create");
        assertThat(p.get("name").asText()).isEqualTo("PT0");
        assertThat(p.get("base_bdev_name").asText()).isEqualTo("Malloc0");
        assertThat(p.get("uuid").asText()).isEqualTo(uuid.toString());
        String pt1Uuid = h.bdev("PT1").get("uuid").asText();
        Path saved = h.saveConfig(dir);
        JsonNode before = h.bdevConfig();
        h.close();

        h = VbdevHarness.start(dir, saved);
        assertThat(h.bdevConfig()).as("the restored config").isEqualTo(before);
        assertThat(h.bdev("PT0").get("uuid").asText()).isEqualTo(uuid.toString());
        assertThat(h.bdev("PT1").get("uuid").asText()).as("a derived uuid is stable").isEqualTo(pt1Uuid);
    }
}
